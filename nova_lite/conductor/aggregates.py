"""Conductor methods for host aggregates and the availability zones they define."""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import exception
from nova_lite.conf import CONF
from nova_lite.db import aggregates as aggregates_db
from nova_lite.db import instances as inst_db


class AggregateMixin:
    """A change of an aggregate's hosts or metadata reaches the schedulers at once
    (hosts_changed): their host view holds each host's zone and aggregate metadata,
    which their filters read and which a build records as the server's zone."""

    api_url: str
    cells: Any
    service_list: Any
    _hosts_changed: Any

    def _check_zone_name(self, zone: Optional[str]) -> None:
        if zone is not None and zone == CONF.internal_service_availability_zone:
            raise exception.Invalid(
                message=f"Aggregates cannot be in the internal availability zone {zone}.")

    def aggregate_create(self, ctx: Any, name: str, availability_zone: Optional[str]) -> Any:
        self._check_zone_name(availability_zone)
        return aggregates_db.aggregate_create(self.api_url, name, availability_zone)

    def aggregate_get(self, ctx: Any, aggregate_id: int) -> Any:
        return aggregates_db.aggregate_get(self.api_url, aggregate_id)

    def aggregate_list(self, ctx: Any) -> list:
        return aggregates_db.aggregate_list(self.api_url)

    def aggregate_update(self, ctx: Any, aggregate_id: int, values: dict) -> Any:
        """values: ``name`` and/or ``metadata`` (keys to set; None deletes a key)."""
        self._check_zone_name((values.get("metadata") or {}).get("availability_zone"))
        out = aggregates_db.aggregate_update(self.api_url, aggregate_id, dict(values),
                                             CONF.default_availability_zone,
                                             self._hosts_with_servers)
        if "metadata" in values:
            self._hosts_changed(ctx)
        return out

    def aggregate_delete(self, ctx: Any, aggregate_id: int) -> None:
        aggregates_db.aggregate_delete(self.api_url, aggregate_id)  # only an empty one

    def aggregate_add_host(self, ctx: Any, aggregate_id: int, host: str) -> Any:
        if not self.service_list(ctx, binary="nova-compute", host=host):
            raise exception.ComputeHostNotFound(host=host)
        out = aggregates_db.host_add(self.api_url, aggregate_id, host,
                                     CONF.default_availability_zone)
        self._hosts_changed(ctx)
        return out

    def aggregate_remove_host(self, ctx: Any, aggregate_id: int, host: str) -> Any:
        out = aggregates_db.host_remove(self.api_url, aggregate_id, host)
        self._hosts_changed(ctx)
        return out

    def host_availability_zones(self, ctx: Any) -> dict:
        """host -> zone for every host an aggregate puts in one; the others are in
        [DEFAULT] default_availability_zone."""
        return aggregates_db.host_views(self.api_url)[0]

    # -- for builds and the scheduler -------------------------------------------------
    def _host_zone(self, host: str) -> str:
        return self.host_availability_zones(None).get(host, CONF.default_availability_zone)

    def _hosts_with_servers(self, hosts: list[str]) -> list[str]:
        busy = set()
        for cell in self.cells.real_cells():
            for host in hosts:
                if host not in busy and inst_db.instance_list(
                        cell["database_connection"], cell["name"], None,
                        {"host": host, "limit": 1}):
                    busy.add(host)
        return sorted(busy)
