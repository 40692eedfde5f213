"""The conductor's RPC endpoint: the only door to the databases.

Data methods here are thin; the multi-step orchestration of builds, deletes and actions
lives in ``tasks.py``. Every method takes the caller's RequestContext first.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional


from nova_lite import exception
from nova_lite.conductor import guest_access, network_tasks, tasks
from nova_lite.conductor.deferred_delete import DeferredDeleteMixin
from nova_lite.conductor.flavor_extras import FlavorExtrasMixin
from nova_lite.conductor.keypairs import KeypairMixin
from nova_lite.conductor.usage import UsageMixin
from nova_lite.conductor.quota import QuotaEngine
from nova_lite.conductor.quota_sets import QuotaSetsMixin
from nova_lite.conductor.guest_calls import GuestCallsMixin
from nova_lite.conductor.server_tags import ServerTagsMixin
from nova_lite.conductor.services import ServicesMixin
from nova_lite.conductor.shelve import ShelveTaskMixin
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.cold_migrate import ColdMigrateMixin
from nova_lite.conductor.compute_nodes import ComputeNodesMixin
from nova_lite.conductor.instant_actions import InstantActionsMixin
from nova_lite.conductor.evacuate import EvacuateMixin
from nova_lite.conductor.live_migration import LiveMigrationMixin
from nova_lite.conductor.migrations import MigrationsMixin
from nova_lite.conductor.placement import PlacementEndpoint
from nova_lite.conductor.rebuild import RebuildMixin
from nova_lite.conductor.server_lists import ServerListMixin
from nova_lite.conductor.resize import ResizeMixin
from nova_lite.conductor.volume_tasks import VolumeTasksMixin
from nova_lite.conf import CONF
from nova_lite.db import aggregates as aggregates_db
from nova_lite.db import cells as cells_db
from nova_lite.db import flavors as flavors_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import placement_bulk
from nova_lite.db import services as svc_db
from nova_lite.objects.provider import ProviderSummary
from nova_lite.objects.instance import Instance
from nova_lite.objects.service import Service

LOG = logging.getLogger(__name__)

COMPUTE_BINARY = svc_db.COMPUTE_BINARY


class ConductorManager(tasks.TaskMixin, FlavorExtrasMixin, network_tasks.NetworkTaskMixin,
                       guest_access.GuestAccessMixin, QuotaSetsMixin, ShelveTaskMixin,
                       GuestCallsMixin, KeypairMixin, UsageMixin, MigrationsMixin,
                       ResizeMixin, LiveMigrationMixin, EvacuateMixin, RebuildMixin,
                       DeferredDeleteMixin, InstantActionsMixin, ServerTagsMixin,
                       ServicesMixin, ColdMigrateMixin, ComputeNodesMixin, VolumeTasksMixin,
                       ServerListMixin):
    """RPC API version 1.27 (see rpcapi.py). Server group, aggregate and block device
    mapping methods come through TaskMixin, whose builds use them."""

    target_version = "1.27"

    def __init__(self) -> None:
        self.api_url = CONF.api_database.connection
        self.cells = CellDirectory(self.api_url, CONF.database.connection)
        self.quota = QuotaEngine(self.api_url, self.cells)
        # The Placement API's namespace, served by the same RPC server.
        self.extra_endpoints = [PlacementEndpoint(self.api_url, self.cells)]
        tasks.TaskMixin.__init__(self)

    def ping(self, ctx: Any) -> str:
        return "pong"

    # -- flavors ------------------------------------------------------------------------
    def flavor_list(self, ctx: Any, is_public: Optional[bool] = True, min_memory_mb: int = 0,
                    min_root_gb: int = 0, project_id: Optional[str] = None) -> list:
        return flavors_db.flavor_list(self.api_url, is_public, min_memory_mb, min_root_gb,
                                      project_id)

    def flavor_get(self, ctx: Any, flavorid: str) -> Any:
        return flavors_db.flavor_get(self.api_url, flavorid)

    def flavor_create(self, ctx: Any, values: dict) -> Any:
        return flavors_db.flavor_create(self.api_url, dict(values))

    def flavor_destroy(self, ctx: Any, flavorid: str) -> None:
        flavors_db.flavor_destroy(self.api_url, flavorid)

    # -- reads across cells --------------------------------------------------------------
    def _deleted_instance_cell(self, uuid: str) -> dict:
        """The cell of an instance that may be deleted (its mapping stays, queued for
        delete); InstanceNotFound if it never reached a cell."""
        cell = cells_db.instance_mapping_get(self.api_url, uuid)["cell"]
        if cell is None:
            raise exception.InstanceNotFound(instance_id=uuid)
        return cell

    def server_get(self, ctx: Any, uuid: str, read_deleted: bool = False,
                   down_cell_minimal: bool = False, with_groups: bool = False,
                   with_host_status: bool = False) -> Instance:
        """A server; with read_deleted, a deleted one too (its action history, 2.21);
        with down_cell_minimal, what the API database knows of it when its cell's
        database does not answer (2.69) instead of DatabaseUnavailable. with_groups
        and with_host_status set what a show adds (server_groups, host_status), so
        that a polled show is one call, not three."""
        inst = self._server(ctx, uuid, read_deleted, down_cell_minimal, with_host_status)
        if with_groups:
            inst.server_groups = self.server_groups_of(ctx, uuid)
        if (with_host_status and inst.obj_attr_is_set("vm_state")  # not a minimal record
                and not inst.obj_attr_is_set("host_status")):
            inst.host_status = self._host_status(uuid, inst.host)
        return inst

    def _server(self, ctx: Any, uuid: str, read_deleted: bool = False,
                down_cell_minimal: bool = False, with_host_status: bool = False
                ) -> Instance:
        """``with_host_status``: a server in its cell comes with its host_status, read
        with it."""
        if down_cell_minimal:
            try:
                return self._server(ctx, uuid, with_host_status=with_host_status)
            except exception.DatabaseUnavailable:
                cell = self.cells.instance_cell(uuid)
                if cell is None:
                    raise
                return self._down_cell_server(uuid, cell)
        if read_deleted:
            try:
                return self._server(ctx, uuid, with_host_status=with_host_status)
            except exception.InstanceNotFound:
                cell = self._deleted_instance_cell(uuid)
                return inst_db.instance_get(cell["database_connection"], uuid, cell["name"],
                                            read_deleted=True)
        cell, building = self.cells.instance_cell_or_request(uuid)
        if building is not None:
            building.volumes_attached = []  # attached once it has a cell
            return building
        return inst_db.instance_get(
            cell["database_connection"], uuid, cell["name"], with_volumes=True,
            host_down_time=CONF.service_down_time if with_host_status else None)

    def instance_actions(self, ctx: Any, uuid: str, request_id: Optional[str] = None,
                         read_deleted: bool = False) -> list:
        try:
            cell = self.cells.instance_cell(uuid)
        except exception.InstanceNotFound:
            if not read_deleted:
                raise
            cell = self._deleted_instance_cell(uuid)
        if cell is None:
            return []
        return inst_db.action_list(cell["database_connection"], uuid,
                                   with_events=request_id is not None, request_id=request_id)

    def service_list(self, ctx: Any, binary: Optional[str] = None,
                     host: Optional[str] = None, down_cell_minimal: bool = False) -> list:
        """Services of every cell that answers (a cell whose database is down is left
        out: its hosts look down to the scheduler and the views). With
        down_cell_minimal (2.69) a down cell's mapped compute hosts are listed instead,
        as services with only host, binary and cell set."""
        def read(cell: dict) -> list:
            try:
                return svc_db.service_list(cell["database_connection"],
                                           CONF.service_down_time, cell["name"], binary, host)
            except exception.DatabaseUnavailable as err:
                if not down_cell_minimal:
                    raise
                LOG.warning("cell %s (%s) is down, listing its mapped computes: %s",
                            cell["name"], cell["uuid"], err)
                if binary not in (None, COMPUTE_BINARY):
                    return []
                return [Service(host=m["host"], binary=COMPUTE_BINARY, cell_name=cell["name"])
                        for m in cells_db.host_mapping_list(self.api_url)
                        if m["cell_uuid"] == cell["uuid"] and host in (None, m["host"])]

        return _from_cells(self.cells.real_cells(), read)

    def compute_node_list(self, ctx: Any) -> list:
        return _from_cells(self.cells.real_cells(), lambda cell: svc_db.compute_node_list(
            cell["database_connection"], CONF.service_down_time, cell["name"]))

    def compute_node_rows(self, ctx: Any) -> str:
        """compute_node_list as one JSON text of plain dicts (os-hypervisors lists of
        a thousand nodes, without a versioned object each on both ends)."""
        return json.dumps(_from_cells(self.cells.real_cells(),
                                      lambda cell: svc_db.compute_node_dicts(
                                          cell["database_connection"],
                                          CONF.service_down_time, cell["name"])),
                          separators=(",", ":"))

    # -- services and compute nodes --------------------------------------------------------
    def service_heartbeat(self, ctx: Any, host: str, binary: str, topic: str) -> int:
        return svc_db.service_heartbeat(self.cells.local_cell_url_or_first(), host, binary,
                                        topic)

    def instance_list_by_host(self, ctx: Any, host: str) -> list:
        cell = self.cells.local_cell()
        url = cell["database_connection"] if cell else self.cells.local_cell_url_or_first()
        return inst_db.instance_list(url, cell["name"] if cell else None, None,
                                     {"host": host, "soft_deleted": True})

    # -- instance updates from compute ------------------------------------------------------
    def _cell_url(self, uuid: str) -> str:
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            raise exception.InstanceNotFound(instance_id=uuid)
        return cell["database_connection"]

    def instance_update(self, ctx: Any, uuid: str, values: dict,
                        expected_task_state: Any = "__any__",
                        event: Optional[dict] = None, reply: bool = True
                        ) -> Optional[Instance]:
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            raise exception.InstanceNotFound(instance_id=uuid)
        return inst_db.instance_update(cell["database_connection"], uuid, values,
                                       expected_task_state, cell["name"],
                                       dict(event, request_id=ctx.request_id)
                                       if event else None, load=reply)

    def instance_fault_create(self, ctx: Any, uuid: str, code: int, message: str,
                              details: Optional[str], host: Optional[str]) -> None:
        inst_db.fault_create(self._cell_url(uuid), uuid, code, message, details, host)

    def action_event(self, ctx: Any, uuid: str, event: str, phase: str, host: Optional[str],
                     result: Optional[str] = None, traceback: Optional[str] = None) -> None:
        try:
            url = self._cell_url(uuid)
        except exception.InstanceNotFound:
            return
        inst_db.action_event(url, uuid, ctx.request_id, event, phase, host, result, traceback,
                             finish_action=phase == "finish")

    def instance_destroy(self, ctx: Any, uuid: str, event: Optional[str] = None,
                         host: Optional[str] = None) -> None:
        """Final step of a delete: soft-delete the record, free its resources. With
        ``event``: the host's finish of that event (Success) and of the request's delete
        action, recorded in the same cell transaction (one call, not two)."""
        cell = self.cells.instance_cell(uuid)
        if cell is None:
            self._forget(uuid)
        elif event is None:
            self._destroy(cell["database_connection"], uuid)
        else:
            self._destroy(cell["database_connection"], uuid, ctx.request_id, event, host)

    def release_resources(self, ctx: Any, consumer_id: str) -> None:
        placement_db.release(self.api_url, consumer_id)

    def discover_hosts(self, ctx: Any) -> list:
        """Map new compute hosts to their cells; [[host, cell name], ...]."""
        return _discover(self.api_url)

    # -- for the scheduler -----------------------------------------------------------------
    def provider_summaries(self, ctx: Any) -> list:
        """Every compute node's capacity, usage, cell and service status, in one answer."""
        summaries = placement_db.provider_summaries(self.api_url)
        hosts = self._scheduling_hosts(ctx, {p["host"] for p in summaries})
        return [ProviderSummary(
            uuid=p["uuid"], name=p["name"], host=p["host"], generation=p["generation"],
            resources=p["resources"], traits=p["traits"], **hosts[p["host"]])
            for p in summaries]

    def provider_summaries_changed(self, ctx: Any, known: dict) -> dict:
        """1.18: the scheduler's host view brought up to date. ``known``: provider uuid
        -> generation the caller holds. {"providers": [the summary of each provider
        changed or new, as plain dicts], "gone": [known uuids no longer there],
        "hosts": {host: its cell, service status, zone and aggregate metadata}} (the
        host part, small and partly time-dependent, always whole)."""
        current = placement_db.provider_generations(self.api_url)
        changed = [u for u, (gen, _h) in current.items() if known.get(u) != gen]
        providers = placement_db.provider_summaries(self.api_url, uuids=changed) \
            if changed else []
        hosts = self._scheduling_hosts(ctx, {h for _g, h in current.values()})
        return {"providers": providers, "gone": [u for u in known if u not in current],
                "hosts": hosts}

    def _scheduling_hosts(self, ctx: Any, only: set) -> dict:
        """host -> what the scheduler's filters read of it besides its providers (a host
        of a disabled cell has no cell: the scheduler places nothing there)."""
        mapped = {m["host"]: m["cell_uuid"] for m in cells_db.host_mapping_list(self.api_url)}
        disabled = {c["uuid"] for c in self.cells.all() if c["disabled"]}
        services = {s.host: s for s in self.service_list(ctx, binary=COMPUTE_BINARY)}
        zones, metadata = aggregates_db.host_views(self.api_url)
        out = {}
        for host in only:
            svc = services.get(host)
            out[host] = {
                "cell_uuid": None if mapped.get(host) in disabled else mapped.get(host),
                "service_up": bool(svc and svc.is_up),
                "service_disabled": bool(svc and svc.disabled),
                "service_disabled_reason": svc.disabled_reason if svc else None,
                "service_forced_down": bool(svc and svc.forced_down),
                "availability_zone": zones.get(host, CONF.default_availability_zone),
                "aggregate_metadata": metadata.get(host, {})}
        return out

    def claim_resources(self, ctx: Any, provider_uuid: str, consumer_id: str,
                        resources: dict, required_traits: Optional[list] = None,
                        forbidden_traits: Optional[list] = None,
                        build_lease: Optional[str] = None) -> int:
        return placement_db.claim(self.api_url, provider_uuid, consumer_id, resources,
                                  required_traits, forbidden_traits, build_lease)

    def claim_resources_many(self, ctx: Any, claims: list, resources: dict,
                             required_traits: Optional[list] = None,
                             forbidden_traits: Optional[list] = None,
                             build_lease: Optional[str] = None) -> list:
        """1.18: claims of one request's instances in one transaction (see rpcapi)."""
        return placement_bulk.claim_many(self.api_url, [tuple(c) for c in claims], resources,
                                       required_traits, forbidden_traits, build_lease)


def _from_cells(cells: list[dict], read: Callable[[dict], list]) -> list:
    """read(cell) for every cell, leaving out a cell whose database does not answer;
    when none answers, DatabaseUnavailable (an empty answer would tell the scheduler and
    the API "no hosts" where the truth is "unknown")."""
    out: list = []
    down: list[exception.DatabaseUnavailable] = []
    for cell in cells:
        try:
            out.extend(read(cell))
        except exception.DatabaseUnavailable as err:
            LOG.warning("cell %s (%s) is down, leaving it out: %s", cell["name"],
                        cell["uuid"], err)
            down.append(err)
    if down and len(down) == len(cells):
        raise down[-1]
    return out


def _discover(api_url: str) -> list:
    from nova_lite.db import discovery

    return [list(p) for p in discovery.discover_hosts(api_url)]
