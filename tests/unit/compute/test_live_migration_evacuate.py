"""The compute side of live migration (source and destination, progress, failures,
abort, force complete, restart) and of evacuation (rebuild on the destination, the
stale guest and claim removed when the dead source starts again), with the fake driver:
two managers share one in-memory conductor."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from nova_lite.compute import manager, states
from nova_lite.objects.migration import Migration
from nova_lite.virt import driver as virt_driver
from tests.unit.compute.test_moves_rebuild_reclaim import Router, _running, call, hosts  # noqa: F401
from tests.unit.compute.test_compute_manager import _ctx

CALLS = ("pre_live_migration",)  # RPC calls (answered at once), not casts


class CallRouter(Router):
    def __getattr__(self, name: str):
        if name in CALLS:
            def rpc_call(ctx, host, *args, **kwargs):
                self.sent.append((name, host))
                return getattr(self.managers[host], name)(ctx, *args, **kwargs)
            return rpc_call
        return super().__getattr__(name)


@pytest.fixture
def two(hosts):  # noqa: F811
    router = CallRouter(hosts)
    for m in hosts.values():
        m._move_rpc = router
    return hosts["h1"], hosts["h2"]


def _move(mgr, inst, kind: str, status: str, dest: str = "h2") -> Migration:
    mig = Migration(id=len(mgr.conductor.migrations) + 1, uuid=str(uuid.uuid4()),
                    instance_uuid=inst.uuid, migration_type=kind, status=status,
                    source_compute=inst.host, source_node=inst.node, dest_compute=dest,
                    dest_node=dest, dest_host=None, old_instance_type_id=inst.flavor.id,
                    new_instance_type_id=inst.flavor.id, hidden=False,
                    cross_cell_move=False, user_id="u", project_id="p", deleted=False)
    mgr.conductor.migrations[mig.uuid] = mig
    return mig


def _live(mgr, inst) -> Migration:
    """What the conductor does before the source's first step."""
    inst.task_state = states.MIGRATING
    return _move(mgr, inst, "live-migration", "queued")


def _power(mgr, inst) -> int:
    return mgr.driver.get_power_state(manager.instance_spec(inst))


# -- live migration ------------------------------------------------------------------------

def test_live_migration_moves_the_running_guest(two):
    h1, h2 = two
    inst = _running(h1)
    mig = _live(h1, inst)
    call(h1, "live_migration", inst, mig, True)
    assert (inst.vm_state, inst.task_state, inst.host, inst.node) == (
        states.ACTIVE, None, "h2", "h2")
    assert mig.status == "completed"
    assert mig.memory_total == 512 * 1024 * 1024 == mig.memory_processed
    assert mig.memory_remaining == 0 and mig.disk_total == 1024 ** 3 == mig.disk_processed
    assert h1.conductor.claims == [("drop", inst.uuid, mig.uuid)]
    assert h1.driver.list_instance_uuids() == []
    assert _power(h2, inst) == virt_driver.RUNNING
    events = [e[1] for e in h1.conductor.events if e[2] == "finish"]
    assert events[-3:] == ["compute_pre_live_migration", "compute_live_migration",
                           "compute_post_live_migration_at_destination"]


def test_a_paused_server_arrives_paused(two):
    h1, h2 = two
    inst = _running(h1)
    h1.driver.pause(manager.instance_spec(inst))
    inst.vm_state = states.PAUSED
    call(h1, "live_migration", inst, _live(h1, inst), False)
    assert (inst.vm_state, inst.host) == (states.PAUSED, "h2")
    assert _power(h2, inst) == virt_driver.PAUSED


@pytest.mark.parametrize("step", ["pre", "migrate"])
def test_a_failed_live_migration_leaves_the_guest_running_on_its_source(two, step):
    h1, h2 = two
    inst = _running(h1, metadata={"fake_live_migration_error": step})
    mig = _live(h1, inst)
    call(h1, "live_migration", inst, mig, True)
    assert (inst.vm_state, inst.task_state, inst.host) == (states.ACTIVE, None, "h1")
    assert mig.status == "error"
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert h1.conductor.faults and h1.conductor.faults[-1][0] == inst.uuid
    assert _power(h1, inst) == virt_driver.RUNNING
    assert h2.driver.list_instance_uuids() == [] and not h2.driver._incoming
    assert ("rollback_live_migration_at_destination", "h2") in h1.move_rpc.sent


def _in_background(mgr, inst, mig) -> threading.Thread:
    th = threading.Thread(target=call, args=(mgr, "live_migration", inst, mig, True))
    th.start()
    deadline = time.monotonic() + 10
    while mig.status != "running" or mgr.driver._live.get(inst.uuid) is None:
        assert time.monotonic() < deadline, mig.status
        time.sleep(0.01)
    return th


def test_abort_stops_the_copy(two):
    h1, h2 = two
    inst = _running(h1, metadata={"fake_live_migration_seconds": "20"})
    mig = _live(h1, inst)
    th = _in_background(h1, inst, mig)
    h1.live_migration_abort(_ctx(), inst, mig)
    th.join(5)
    assert not th.is_alive()
    assert (inst.task_state, inst.host, mig.status) == (None, "h1", "cancelled")
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert not h1.conductor.faults
    assert _power(h1, inst) == virt_driver.RUNNING and not h2.driver._incoming


def test_force_complete_finishes_the_copy_now(two):
    h1, h2 = two
    inst = _running(h1, metadata={"fake_live_migration_seconds": "20"})
    mig = _live(h1, inst)
    th = _in_background(h1, inst, mig)
    started = time.monotonic()
    h1.live_migration_force_complete(_ctx(), inst, mig)
    th.join(5)
    assert time.monotonic() - started < 5
    assert (inst.host, mig.status, mig.memory_remaining) == ("h2", "completed", 0)


def test_abort_without_a_running_copy_is_harmless(two):
    h1, _ = two
    inst = _running(h1)
    h1.live_migration_abort(_ctx(), inst, _live(h1, inst))
    h1.live_migration_force_complete(_ctx(), inst, _live(h1, inst))
    assert h1.conductor.events[-1][3] == "Error"


def test_a_restart_of_the_source_rolls_the_live_migration_back(two):
    h1, h2 = two
    inst = _running(h1)
    mig = _live(h1, inst)
    mig.status = "running"
    h1.driver = type(h1.driver)("h1", None, h1.driver.conf)  # the restart: empty hypervisor
    h1.driver.init_host(None)
    h1.init_host()
    h1.move_rpc.drain()
    assert (inst.task_state, inst.host, mig.status) == (None, "h1", "error")
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert ("rollback_live_migration_at_destination", "h2") in h1.move_rpc.sent


def test_a_restart_of_the_destination_leaves_the_move_to_the_source(two):
    h1, h2 = two
    inst = _running(h1)
    mig = _live(h1, inst)
    mig.status = "running"
    h2.init_host()
    assert (inst.task_state, mig.status) == (states.MIGRATING, "running")


# -- evacuate ----------------------------------------------------------------------------

def _evacuation(mgr, inst, dest: str = "h2") -> Migration:
    """What the conductor does before the destination's step (source h1 is down)."""
    inst.task_state = states.REBUILDING
    return _move(mgr, inst, "evacuation", "pre-migrating", dest)


def test_evacuate_rebuilds_on_the_destination_and_the_source_cleans_up(two):
    h1, h2 = two
    inst = _running(h1)
    mig = _evacuation(h1, inst)
    call(h2, "evacuate_instance", inst, mig, states.ACTIVE, None)
    assert (inst.vm_state, inst.task_state, inst.host, mig.status) == (
        states.ACTIVE, None, "h2", "done")
    assert h1.conductor.claims == []  # the dead source's claim stays with the migration
    assert _power(h2, inst) == virt_driver.RUNNING
    assert inst.uuid in h1.driver.list_instance_uuids()  # the stale guest, until ...
    h1.init_host()  # ... the source starts again
    assert h1.driver.list_instance_uuids() == []
    assert mig.status == "completed"
    assert h1.conductor.claims == [("drop", inst.uuid, mig.uuid)]
    assert (inst.host, inst.vm_state) == ("h2", states.ACTIVE)  # not touched by h1
    h1.init_host()  # a second start finds nothing more to do
    assert h1.conductor.claims == [("drop", inst.uuid, mig.uuid)]


def test_evacuate_to_stopped(two):
    h1, h2 = two
    inst = _running(h1)
    call(h2, "evacuate_instance", inst, _evacuation(h1, inst), states.STOPPED, "pw")
    assert (inst.vm_state, inst.host) == (states.STOPPED, "h2")
    assert _power(h2, inst) == virt_driver.SHUTDOWN


def test_a_failed_evacuation_leaves_the_server_error_on_its_old_claim(two):
    h1, h2 = two
    inst = _running(h1)
    inst.metadata = {"fake_spawn_error": "1"}
    mig = _evacuation(h1, inst)
    call(h2, "evacuate_instance", inst, mig, states.ACTIVE, None)
    assert (inst.vm_state, inst.task_state, inst.host, mig.status) == (
        states.ERROR, None, "h1", "failed")
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert h2.driver.list_instance_uuids() == []


def test_a_restart_of_the_source_mid_evacuation_keeps_its_hands_off(two):
    h1, h2 = two
    inst = _running(h1)
    mig = _evacuation(h1, inst)
    h1.init_host()
    assert h1.driver.list_instance_uuids() == []  # its guest here is stale either way
    assert (inst.task_state, mig.status) == (states.REBUILDING, "pre-migrating")
    call(h2, "evacuate_instance", inst, mig, states.ACTIVE, None)
    assert (inst.host, mig.status) == ("h2", "done")


def test_a_restart_of_the_destination_mid_evacuation_fails_it(two):
    h1, h2 = two
    inst = _running(h1)
    mig = _evacuation(h1, inst)
    inst.task_state = states.REBUILD_SPAWNING
    h2.init_host()
    assert (inst.vm_state, inst.task_state, inst.host, mig.status) == (
        states.ERROR, None, "h1", "failed")
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]


class _Ports:
    """A network API whose ports follow the guest (bind_host)."""

    enabled = True

    def __init__(self) -> None:
        self.bound: list[tuple] = []

    def bind_host(self, uuid_, host, network_info):
        self.bound.append((uuid_, host))
        return [dict(v, bound_to=host) for v in network_info]


def test_the_ports_follow_the_server(two):
    from nova_lite.network import model as net_model

    h1, h2 = two
    inst = _running(h1)
    inst.network_info = net_model.dumps([{"id": "port-1"}])
    h2.network_api = _Ports()
    call(h1, "live_migration", inst, _live(h1, inst), False)
    assert h2.network_api.bound == [(inst.uuid, "h2")]
    assert net_model.loads(inst.network_info)[0]["bound_to"] == "h2"
    h1.network_api = _Ports()
    call(h1, "evacuate_instance", inst, _evacuation(h2, inst, "h1"), states.ACTIVE, None)
    assert h1.network_api.bound == [(inst.uuid, "h1")] and inst.host == "h1"


def test_deleting_the_server_stops_the_copy(two):
    h1, h2 = two
    inst = _running(h1, metadata={"fake_live_migration_seconds": "20"})
    mig = _live(h1, inst)
    th = _in_background(h1, inst, mig)
    h1.conductor.instances.pop(inst.uuid)  # deleted meanwhile
    th.join(5)
    assert not th.is_alive()
    assert ("rollback_live_migration_at_destination", "h2") in h1.move_rpc.sent
    assert mig.status == "running"  # the record went with the server (conductor side)


def test_an_abort_while_preparing_keeps_the_copy_from_starting(two):
    h1, h2 = two
    inst = _running(h1)
    mig = _live(h1, inst)
    h1.live_migration_abort(_ctx(), inst, mig)  # arrives before the copy runs (2.65)
    call(h1, "live_migration", inst, mig, True)
    assert (inst.task_state, inst.host, mig.status) == (None, "h1", "cancelled")
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert not h2.driver._incoming and _power(h1, inst) == virt_driver.RUNNING
