"""Conductor methods for the operator's service management: disable/enable, force
down, and delete (with everything the API database knows of a compute host).

A service lives in one cell database; integer ids repeat across cells (uuids, used
from API microversion 2.53, do not), so an id found in two cells is refused.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.conf import CONF
from nova_lite.db import host_removal
from nova_lite.db import instance_migrations as migrations_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import services as svc_db
from nova_lite.objects.service import Service

LOG = logging.getLogger(__name__)
COMPUTE_BINARY = svc_db.COMPUTE_BINARY
# On a disabled compute service's providers, as Nova marks them (visible in Placement).
DISABLED_TRAIT = "COMPUTE_STATUS_DISABLED"
_MOVES_MESSAGE = ("Unable to delete compute service that has in-progress migrations. "
                  "Complete the migrations or delete the instances first.")


class ServicesMixin:
    api_url: str
    cells: Any
    compute: Any
    scheduler: Any

    def _changed(self, ctx: Any, svc: Service) -> Service:
        """After an operator's change: the disabled trait follows the service, and the
        schedulers hear of it."""
        if svc.binary == COMPUTE_BINARY:
            placement_db.host_trait_switch(self.api_url, svc.host, DISABLED_TRAIT,
                                           bool(svc.disabled))
        self._hosts_changed(ctx)
        return svc

    def disabled_trait(self, service_id: Optional[int]) -> list[str]:
        """[DISABLED_TRAIT] when the local cell's service service_id is disabled: a
        compute reporting its own traits must not drop the operator's mark."""
        if service_id is None:
            return []
        svc = svc_db.service_find(self.cells.local_cell_url_or_first(),
                                  CONF.service_down_time, None, service_id)
        return [DISABLED_TRAIT] if svc is not None and svc.disabled else []

    def _hosts_changed(self, ctx: Any) -> None:
        """Schedulers re-read hosts before their next choice (they cache their view for
        [scheduler] host_view_max_age); best effort, the cache expires anyway."""
        try:
            self.scheduler.hosts_changed(ctx)
        except Exception:  # noqa: BLE001 - the update itself has been made
            LOG.warning("could not tell the schedulers that hosts changed", exc_info=True)

    def _locate_service(self, service_id: int | str) -> tuple[dict, Service]:
        found = []
        for cell in self.cells.real_cells():
            svc = svc_db.service_find(cell["database_connection"], CONF.service_down_time,
                                      cell["name"], service_id)
            if svc is not None:
                found.append((cell, svc))
        if not found:
            raise exception.ServiceNotFound(service_id=service_id)
        if len(found) > 1:
            raise exception.ServiceNotUnique(service_id=service_id)
        return found[0]

    def _host_status(self, instance_uuid: str, host: Optional[str]) -> str:
        """A server's 2.16 host_status: the state of the compute service of ``host`` in
        the server's cell ("" without a host, UNKNOWN without such a service)."""
        if not host:
            return ""
        try:
            cell = self.cells.instance_cell(instance_uuid)
        except exception.InstanceNotFound:  # deleted (a show with read_deleted)
            cell = None
        if cell is None:
            return "UNKNOWN"
        svc = svc_db.service_find_by_host(cell["database_connection"],
                                          CONF.service_down_time, cell["name"], host,
                                          COMPUTE_BINARY)
        return svc.host_status() if svc is not None else "UNKNOWN"

    def service_get(self, ctx: Any, service_id: int | str) -> Service:
        """A service by integer id or uuid."""
        return self._locate_service(service_id)[1]

    def service_update(self, ctx: Any, service_id: int | str, values: dict) -> Service:
        """Set disabled / disabled_reason / forced_down of a service (id or uuid)."""
        cell, svc = self._locate_service(service_id)
        return self._changed(ctx, svc_db.service_update(
            cell["database_connection"], CONF.service_down_time, cell["name"], svc.id,
            dict(values)))

    def service_update_by_host(self, ctx: Any, host: str, binary: str, values: dict
                               ) -> Service:
        """The pre-2.53 form: the service named by host and binary."""
        for cell in self.cells.real_cells():
            url = cell["database_connection"]
            svc = svc_db.service_find_by_host(url, CONF.service_down_time, cell["name"],
                                              host, binary)
            if svc is not None:
                return self._changed(ctx, svc_db.service_update(
                    url, CONF.service_down_time, cell["name"], svc.id, dict(values)))
        raise exception.HostBinaryNotFound(host=host, binary=binary)

    def host_uptime(self, ctx: Any, host: str) -> str:
        """The uptime line of a compute host, asked of its compute service (400 when
        that service is down, as Nova answers)."""
        svc = next((s for cell in self.cells.real_cells() for s in svc_db.service_list(
            cell["database_connection"], CONF.service_down_time, cell["name"],
            COMPUTE_BINARY, host)), None)
        if svc is None:
            raise exception.ComputeHostNotFound(host=host)
        if not svc.is_up:
            raise exception.ComputeServiceUnavailable(host=host)
        return self.compute.get_host_uptime(ctx, host)

    def service_delete(self, ctx: Any, service_id: int | str) -> None:
        """Delete a service; for nova-compute refused (409) while its host has
        instances, moves in progress or claims, and otherwise taking its compute nodes,
        resource providers, aggregate memberships and host mapping with it.

        The API database goes first: interrupted before the cell step, the service is
        still listed and deleting it again finishes the job.
        """
        cell, svc = self._locate_service(service_id)
        url = cell["database_connection"]
        compute = svc.binary == COMPUTE_BINARY
        if compute:
            if inst_db.instance_list(url, cell["name"], None,
                                     {"host": svc.host, "soft_deleted": True, "limit": 1}):
                raise exception.ServiceInUse()
            if migrations_db.migration_list(url, host=svc.host, in_progress=True, limit=1):
                raise exception.ServiceInUse(message=_MOVES_MESSAGE)
            nodes = svc_db.compute_nodes_of_host(url, svc.host)
            host_removal.forget_compute_host(self.api_url, svc.host,
                                             [n["uuid"] for n in nodes])
        svc_db.service_destroy(url, svc.id, compute)
        if compute:
            self._hosts_changed(ctx)
