"""Service management in the conductor on real databases: disable/force down by uuid
and by host, and delete: refused while the host has servers, claims or moves; otherwise
the service, its compute nodes, providers, aggregate memberships and host mapping go."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from nova_lite import exception
from nova_lite.conductor.aggregates import AggregateMixin
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.services import ServicesMixin
from nova_lite.db import aggregates as aggregates_db
from nova_lite.db import api_models
from nova_lite.db import cells as cells_db
from nova_lite.db import discovery
from nova_lite.db import engine as db_engine
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement as placement_db
from nova_lite.db import services as svc_db
from tests.db.test_cells_instances import create_instance, map_to_cell, new_instance, node_values

INV = {"VCPU": {"total": 8, "reserved": 0, "allocation_ratio": 1.0}}


class _Schedulers:
    def __init__(self) -> None:
        self.told = 0

    def hosts_changed(self, ctx) -> None:
        self.told += 1


class _Conductor(ServicesMixin, AggregateMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)
        self.scheduler = _Schedulers()

    def service_list(self, ctx, binary: str, host: str) -> list:
        cell = self.cells.real_cells()[0]
        return svc_db.service_list(cell["database_connection"], 60, cell["name"], binary, host)


@pytest.fixture
def env(api_url: str, mapped_cells: dict) -> dict:
    cell1 = mapped_cells["cell1"]
    for host in ("h1", "h2"):
        sid = svc_db.service_heartbeat(cell1, host, "nova-compute", "compute")
        node = svc_db.compute_node_update(cell1, host, sid, node_values(f"{host}.node"))
        placement_db.provider_ensure(api_url, f"{host}.node", host, mapped_cells["cell1_uuid"], INV,
                                     uuid=node["uuid"])
    svc_db.service_heartbeat(cell1, "ctl", "nova-scheduler", "scheduler")
    discovery.discover_hosts(api_url)
    agg = aggregates_db.aggregate_create(api_url, "rack1", None)
    aggregates_db.host_add(api_url, agg.id, "h2", "nova")
    return {"api": api_url, "cell1": cell1, "cond": _Conductor(api_url), "agg": agg.id}


def _svc(env: dict, host: str, binary: str = "nova-compute"):
    return svc_db.service_find_by_host(env["cell1"], 60, "cell1", host, binary)


def _traits(env: dict, host: str) -> list[str]:
    return placement_db.provider_summaries(env["api"], [host])[0]["traits"]


def test_disable_and_force_down(env, backend):
    cond, h1 = env["cond"], _svc(env, "h1")
    got = cond.service_update(None, h1.uuid, {"disabled": True, "disabled_reason": "disk"})
    assert (got.disabled, got.disabled_reason, got.is_up) == (True, "disk", True)
    got = cond.service_update_by_host(None, "h1", "nova-compute", {"forced_down": True})
    assert (got.forced_down, got.is_up, got.disabled_reason) == (True, False, "disk")
    assert cond.service_get(None, h1.id).forced_down is True
    assert cond.scheduler.told == 2  # each change reaches the schedulers' cached views
    # Placement shows the mark Nova puts on a disabled host, and a compute reporting its
    # own traits keeps it.
    assert "COMPUTE_STATUS_DISABLED" in _traits(env, "h1")
    assert "COMPUTE_STATUS_DISABLED" not in _traits(env, "h2")
    assert cond.disabled_trait(h1.id) == ["COMPUTE_STATUS_DISABLED"]
    assert cond.disabled_trait(_svc(env, "h2").id) == [] and cond.disabled_trait(None) == []
    cond.service_update(None, h1.uuid, {"disabled": False, "disabled_reason": None})
    assert "COMPUTE_STATUS_DISABLED" not in _traits(env, "h1")
    cond.service_update(None, h1.uuid, {"disabled": True})
    with pytest.raises(exception.HostBinaryNotFound):
        cond.service_update_by_host(None, "nope", "nova-compute", {"disabled": True})
    with pytest.raises(exception.ServiceNotFound):
        cond.service_update(None, str(uuid.uuid4()), {"disabled": True})
    with pytest.raises(ValueError):
        cond.service_update(None, h1.uuid, {"host": "elsewhere"})
    # A heartbeat does not undo the operator's switches.
    svc_db.service_heartbeat(env["cell1"], "h1", "nova-compute", "compute")
    again = _svc(env, "h1")
    assert (again.disabled, again.forced_down, again.is_up) == (True, True, False)


def _api_rows(env: dict, host: str) -> dict:
    with db_engine.session_scope(env["api"]) as s:
        rps = list(s.scalars(sa.select(api_models.ResourceProvider.id).where(
            api_models.ResourceProvider.host == host)))
        return {
            "providers": len(rps),
            "inventories": s.scalar(sa.select(sa.func.count()).select_from(
                api_models.Inventory).where(api_models.Inventory.resource_provider_id.in_(
                    rps))) if rps else 0,
            "mapping": s.scalar(sa.select(sa.func.count()).select_from(
                api_models.HostMapping).where(api_models.HostMapping.host == host)),
            "aggregates": s.scalar(sa.select(sa.func.count()).select_from(
                api_models.AggregateHost).where(api_models.AggregateHost.host == host)),
            "rp_aggregates": s.scalar(sa.select(sa.func.count()).select_from(
                api_models.ResourceProviderAggregate).where(
                    api_models.ResourceProviderAggregate.resource_provider_id.in_(rps)))
            if rps else 0,
        }


def test_aggregate_changes_reach_the_schedulers(env, backend):
    """A host's zone and aggregate metadata are in the schedulers' cached views (their
    filters read them, a build records the zone): each change is told at once."""
    cond = env["cond"]
    cond.aggregate_add_host(None, env["agg"], "h1")
    cond.aggregate_update(None, env["agg"], {"metadata": {"availability_zone": "az9"}})
    cond.aggregate_update(None, env["agg"], {"name": "rack-one"})  # neither zone nor specs
    cond.aggregate_remove_host(None, env["agg"], "h1")
    assert cond.scheduler.told == 3
    assert cond.host_availability_zones(None) == {"h2": "az9"}


def test_delete_refused_while_host_is_used(env, backend):
    cond, h2 = env["cond"], _svc(env, "h2")
    inst = new_instance(vm_state="active", task_state=None, host="h2", node="h2.node")
    create_instance(env["cell1"], inst, "cell1")
    with pytest.raises(exception.ServiceInUse) as err:
        cond.service_delete(None, h2.uuid)
    assert err.value.code == 409
    inst_db.instance_destroy(env["cell1"], inst.uuid)

    mig = mig_db.migration_create(env["cell1"], {
        "instance_uuid": inst.uuid, "migration_type": "resize", "status": "migrating",
        "source_compute": "h1", "dest_compute": "h2"})
    with pytest.raises(exception.ServiceInUse) as err:
        cond.service_delete(None, h2.uuid)
    assert "in-progress migrations" in err.value.format_message()
    mig_db.migration_update(env["cell1"], mig.uuid, {"status": "confirmed"})

    rp = placement_db.provider_summaries(env["api"], ["h2"])[0]["uuid"]
    with db_engine.session_scope(env["api"]) as s:
        rp_id = s.scalar(sa.select(api_models.ResourceProvider.id).where(
            api_models.ResourceProvider.uuid == rp))
        s.add(api_models.ResourceProviderAggregate(resource_provider_id=rp_id,
                                                   aggregate_uuid=str(uuid.uuid4())))
    placement_db.claim(env["api"], rp, "on-its-way", {"VCPU": 1})
    with pytest.raises(exception.ServiceInUse):
        cond.service_delete(None, h2.uuid)
    # Nothing went anywhere while refused (rack1 mirrored as a provider aggregate, too).
    assert _api_rows(env, "h2") == {"providers": 1, "inventories": 1, "mapping": 1,
                                    "aggregates": 1, "rp_aggregates": 2}
    assert _svc(env, "h2") is not None
    placement_db.release(env["api"], "on-its-way")

    told = cond.scheduler.told
    cond.service_delete(None, h2.uuid)
    assert cond.scheduler.told == told + 1
    assert _api_rows(env, "h2") == {"providers": 0, "inventories": 0, "mapping": 0,
                                    "aggregates": 0, "rp_aggregates": 0}
    assert _svc(env, "h2") is None
    assert [n.host for n in svc_db.compute_node_list(env["cell1"], 60, "cell1")] == ["h1"]
    assert aggregates_db.aggregate_get(env["api"], env["agg"]).hosts == []
    assert _api_rows(env, "h1")["providers"] == 1
    with pytest.raises(exception.ServiceNotFound):
        cond.service_delete(None, h2.uuid)


def test_deleted_compute_comes_back_as_a_new_service(env, backend):
    """A compute that keeps running after its service was deleted records itself
    again (new uuid, new node) and discover_hosts maps it again, as in Nova."""
    cond, h1 = env["cond"], _svc(env, "h1")
    cond.service_delete(None, h1.id)
    sid = svc_db.service_heartbeat(env["cell1"], "h1", "nova-compute", "compute")
    svc_db.compute_node_update(env["cell1"], "h1", sid, node_values("h1.node"))
    assert _svc(env, "h1").uuid != h1.uuid
    assert ("h1", "cell1") in discovery.discover_hosts(env["api"])


def test_delete_non_compute_service(env, backend):
    cond, sched = env["cond"], _svc(env, "ctl", "nova-scheduler")
    cond.service_delete(None, sched.uuid)
    assert _svc(env, "ctl", "nova-scheduler") is None
    assert _api_rows(env, "h1")["providers"] == 1


def test_manage_delete_host(env, backend):
    """cell_v2 delete_host: Nova's exit codes, and a host with instances stays mapped."""
    from nova_lite.db import host_removal

    cell1 = next(c for c in cells_db.cell_list(env["api"]) if c["name"] == "cell1")
    assert host_removal.delete_host(env["api"], str(uuid.uuid4()), "h1")[0] == 1
    assert host_removal.delete_host(env["api"], cell1["uuid"], "nope") == (
        2, "The host nope was not found.")
    assert host_removal.delete_host(env["api"], cells_db.CELL0_UUID, "h1")[0] == 3
    inst = new_instance(vm_state="active", task_state=None, host="h1", node="h1.node")
    create_instance(env["cell1"], inst, "cell1")
    assert host_removal.delete_host(env["api"], cell1["uuid"], "h1") == (
        4, "There are instances on the host h1.")
    assert _api_rows(env, "h1")["mapping"] == 1
    assert host_removal.delete_host(env["api"], cell1["uuid"], "h2") == (0, "")
    assert _api_rows(env, "h2")["mapping"] == 0
    # The node is unmapped again, so discover_hosts would map it back.
    assert svc_db.unmapped_compute_hosts(env["cell1"]) == ["h2"]


def test_delete_interrupted_after_the_api_database_finishes_when_repeated(env, backend):
    """A conductor that died between the two databases left the service listed with
    its providers gone; deleting it again completes the job."""
    from nova_lite.db import host_removal

    h2 = _svc(env, "h2")
    nodes = svc_db.compute_nodes_of_host(env["cell1"], "h2")
    host_removal.forget_compute_host(env["api"], "h2", [n["uuid"] for n in nodes])
    assert _svc(env, "h2") is not None  # the crash: the cell step never ran
    env["cond"].service_delete(None, h2.uuid)
    assert _svc(env, "h2") is None
    assert _api_rows(env, "h2")["providers"] == 0
    assert [n.host for n in svc_db.compute_node_list(env["cell1"], 60, "cell1")] == ["h1"]


def test_host_status_of_a_server(env, backend):
    """A show's host_status, read with the server (2.16): its compute service's state in
    the server's cell, as an operator's changes leave it."""
    cond = env["cond"]
    cell = cond.cells.real_cells()[0]
    inst = new_instance(vm_state="active", task_state=None, host="h1", node="h1.node")
    cells_db.build_request_create(env["api"], inst.uuid, "p1", "u1", inst.obj_to_primitive(),
                                  {})
    map_to_cell(env["api"], inst.uuid, cell["uuid"])
    assert cond._host_status(inst.uuid, "h1") == "UP"
    cond.service_update_by_host(None, "h1", "nova-compute", {"disabled": True})
    assert cond._host_status(inst.uuid, "h1") == "MAINTENANCE"
    cond.service_update_by_host(None, "h1", "nova-compute", {"forced_down": True})
    assert cond._host_status(inst.uuid, "h1") == "DOWN"
    assert cond._host_status(inst.uuid, "gone") == "UNKNOWN"
    assert cond._host_status(inst.uuid, None) == ""
    cells_db.instance_mapping_queue_delete(env["api"], inst.uuid)
    cond.cells.forget_instance(inst.uuid)
    assert cond._host_status(inst.uuid, "h2") == "UNKNOWN"  # a deleted server's


def test_host_status_read_with_the_server(env, backend):
    """A show at 2.16+ reads host_status in the server's own statement, through each
    change an operator makes and a service that stopped reporting."""
    cond, cell1 = env["cond"], env["cell1"]
    on_h1 = create_instance(cell1, new_instance(vm_state="active", task_state=None,
                                                host="h1", node="h1.node"))
    elsewhere = create_instance(cell1, new_instance(host="gone", node="gone"))
    nowhere = create_instance(cell1, new_instance(host=None, node=None))

    def joined(uuid: str) -> str:
        return inst_db.instance_get(cell1, uuid, "cell1", with_volumes=True,
                                    host_down_time=60).host_status

    assert joined(on_h1.uuid) == "UP"
    assert joined(elsewhere.uuid) == "UNKNOWN" and joined(nowhere.uuid) == ""
    cond.service_update_by_host(None, "h1", "nova-compute", {"disabled": True})
    assert joined(on_h1.uuid) == "MAINTENANCE"
    cond.service_update_by_host(None, "h1", "nova-compute", {"forced_down": True})
    assert joined(on_h1.uuid) == "DOWN"
    cond.service_update_by_host(None, "h1", "nova-compute", {"forced_down": False,
                                                             "disabled": False})
    with db_engine.session_scope(cell1) as s:  # stopped reporting two minutes ago
        s.execute(sa.text("UPDATE services SET last_seen_up = :t WHERE host = 'h1'"),
                  {"t": datetime.utcnow() - timedelta(minutes=2)})
    assert joined(on_h1.uuid) == "DOWN"
    # Not asked for: not read.
    assert not inst_db.instance_get(cell1, on_h1.uuid).obj_attr_is_set("host_status")
