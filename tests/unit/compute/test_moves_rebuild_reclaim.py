"""The compute side of resize (each step on its host), rebuild and reclaim, with the fake
driver: two managers share one in-memory conductor, and casts between them are
delivered at once."""

from __future__ import annotations

import datetime
import uuid

import pytest

from nova_lite.compute import manager, states
from nova_lite.conf import CONF
from nova_lite.objects.flavor import Flavor
from nova_lite.objects.migration import Migration
from nova_lite.virt import driver as virt_driver
from nova_lite.virt import fake
from tests.unit.compute.test_compute_manager import FakeConductor, _ctx, _instance

BIG = Flavor(id=2, flavorid="2", name="m1.small", memory_mb=2048, vcpus=2, root_gb=20,
             ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True, disabled=False,
             description=None, extra_specs={})


class Router:
    """Casts between the managers: queued, and delivered once the sender's call is over
    (a cast never runs inside its sender's per-instance lock)."""

    def __init__(self, managers: dict) -> None:
        self.managers = managers
        self.sent: list[tuple] = []
        self.pending: list = []

    def __getattr__(self, name: str):
        def cast(ctx, host, *args, **kwargs):
            self.sent.append((name, host))
            self.pending.append(lambda: getattr(self.managers[host], name)(ctx, *args,
                                                                          **kwargs))
        return cast

    def drain(self) -> None:
        while self.pending:
            self.pending.pop(0)()


def call(mgr, method: str, *args) -> None:
    """A call to one manager, then every cast it leads to."""
    getattr(mgr, method)(_ctx(), *args)
    mgr.move_rpc.drain()


@pytest.fixture
def hosts():
    cond = FakeConductor()
    managers = {}
    for host in ("h1", "h2"):
        m = manager.ComputeManager(host, conductor=cond,
                                   driver=fake.FakeDriver(host, None, CONF))
        m.driver.init_host(None)
        managers[host] = m
    router = Router(managers)
    for m in managers.values():
        m._move_rpc = router
    return managers


def _running(mgr, **kw):
    inst = _instance(**kw)
    mgr.conductor.instances[inst.uuid] = inst
    mgr.build_and_run_instance(_ctx(), inst)
    assert inst.vm_state == states.ACTIVE
    return inst


def _start_resize(mgr, inst, dest: str, new=BIG) -> Migration:
    """What the conductor does before the source host's first step."""
    mig = Migration(id=1, uuid=str(uuid.uuid4()), instance_uuid=inst.uuid,
                    migration_type="resize", status="pre-migrating",
                    source_compute=inst.host, source_node=inst.node, dest_compute=dest,
                    dest_node=dest, dest_host=None, old_instance_type_id=inst.flavor.id,
                    new_instance_type_id=new.id, hidden=False, cross_cell_move=False,
                    user_id="u", project_id="p", deleted=False)
    mgr.conductor.migrations[mig.uuid] = mig
    inst.system_metadata = {"old_vm_state": inst.vm_state}
    inst.old_flavor, inst.new_flavor = inst.flavor, new
    inst.task_state = states.RESIZE_PREP
    return mig


def _sizes(mgr) -> list:
    return [(f.vcpus, f.memory_mb) for f in mgr._sizes_held_here(
        _ctx(), mgr.conductor.instance_list_by_host(_ctx(), mgr.host))]


def test_resize_to_another_host_then_confirm(hosts):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    assert (inst.vm_state, inst.task_state, inst.host) == (states.RESIZED, None, "h2")
    assert (inst.flavor.name, inst.vcpus, inst.memory_mb) == ("m1.small", 2, 2048)
    assert mig.status == "finished" and h1.conductor.claims == []
    assert h1.driver.list_instance_uuids() == [] and h1.driver._set_aside
    assert h2.driver.get_power_state(manager.instance_spec(inst)) == virt_driver.RUNNING
    # VERIFY_RESIZE: the source holds the old size, the destination the new one
    assert _sizes(h1) == [(1, 512)] and _sizes(h2) == [(2, 2048)]
    events = [e[1] for e in h1.conductor.events if e[2] == "finish"]
    assert events[-2:] == ["compute_resize_instance", "compute_finish_resize"]

    mig.status, inst.task_state = "confirming", states.RESIZE_CONFIRMING
    call(h1, "confirm_resize", inst, mig)
    assert (inst.vm_state, inst.task_state, mig.status) == (states.ACTIVE, None, "confirmed")
    assert h1.conductor.claims == [("drop", inst.uuid, mig.uuid)]
    assert inst.old_flavor is None and "old_vm_state" not in inst.system_metadata
    assert not h1.driver._set_aside and _sizes(h1) == []


def test_revert_brings_the_server_back_to_its_source(hosts):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    mig.status, inst.task_state = "reverting", states.RESIZE_REVERTING
    call(h2, "revert_resize", inst, mig)
    assert (inst.vm_state, inst.task_state, inst.host) == (states.ACTIVE, None, "h1")
    assert (inst.flavor.name, inst.vcpus, inst.memory_mb) == ("m1.tiny", 1, 512)
    assert mig.status == "reverted"
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert h2.driver.list_instance_uuids() == []
    assert h1.driver.get_power_state(manager.instance_spec(inst)) == virt_driver.RUNNING
    assert h1.move_rpc.sent[-1] == ("finish_revert_resize", "h1")


def test_resize_on_the_same_host_and_revert(hosts):
    h1 = hosts["h1"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h1")
    call(h1, "resize_instance", inst, mig)
    assert (inst.vm_state, inst.host, inst.memory_mb) == (states.RESIZED, "h1", 2048)
    assert sorted(_sizes(h1)) == [(1, 512), (2, 2048)]  # both, until confirmed
    mig.status, inst.task_state = "reverting", states.RESIZE_REVERTING
    call(h1, "revert_resize", inst, mig)
    assert (inst.vm_state, inst.memory_mb, mig.status) == (states.ACTIVE, 512, "reverted")
    assert h1.driver.list_instance_uuids() == [inst.uuid] and not h1.driver._set_aside
    assert _sizes(h1) == [(1, 512)]


def test_a_stopped_server_stays_stopped(hosts):
    h1 = hosts["h1"]
    inst = _running(h1)
    inst.vm_state, inst.power_state = states.STOPPED, virt_driver.SHUTDOWN
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    assert inst.vm_state == states.RESIZED and inst.power_state == virt_driver.SHUTDOWN
    mig.status, inst.task_state = "confirming", states.RESIZE_CONFIRMING
    call(h1, "confirm_resize", inst, mig)
    assert inst.vm_state == states.STOPPED


@pytest.mark.parametrize("step", ["migrate", "finish"])
def test_a_failed_step_returns_the_server_to_its_source(hosts, step):
    h1 = hosts["h1"]
    inst = _running(h1, metadata={"fake_resize_error": step})
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    assert (inst.vm_state, inst.task_state, inst.host) == (states.ACTIVE, None, "h1")
    assert (inst.flavor.name, inst.memory_mb, mig.status) == ("m1.tiny", 512, "error")
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert f"fake {step} failure" in h1.conductor.faults[-1][2]
    assert h1.driver.get_power_state(manager.instance_spec(inst)) == virt_driver.RUNNING
    assert hosts["h2"].driver.list_instance_uuids() == []
    assert inst.old_flavor is None and inst.new_flavor is None


def test_a_failed_confirm_leaves_the_server_error_and_frees_the_source(hosts):
    h1 = hosts["h1"]
    inst = _running(h1, metadata={"fake_resize_error": "confirm"})
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    mig.status, inst.task_state = "confirming", states.RESIZE_CONFIRMING
    call(h1, "confirm_resize", inst, mig)
    assert (inst.vm_state, inst.task_state, mig.status) == (states.ERROR, None, "error")
    assert h1.conductor.claims == [("drop", inst.uuid, mig.uuid)]


def test_restart_of_the_source_mid_resize_rolls_back(hosts):
    h1 = hosts["h1"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h2")
    inst.task_state, mig.status = states.RESIZE_MIGRATING, "migrating"
    h1.driver = fake.FakeDriver("h1", None, CONF)  # a restarted fake hypervisor is empty
    h1.init_host()
    h1.move_rpc.drain()
    assert (inst.vm_state, inst.task_state, inst.host, mig.status) == (
        states.ACTIVE, None, "h1", "error")
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]
    assert "interrupted by a restart" in h1.conductor.faults[-1][2]
    assert h1.driver.list_instance_uuids() == [inst.uuid]


def test_restart_of_the_destination_mid_finish_rolls_back_on_the_source(hosts):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h2")
    h1.driver.migrate_disk_and_power_off(manager.instance_spec(inst), "h2",
                                         manager.instance_spec(inst, BIG))
    inst.task_state, mig.status = states.RESIZE_FINISH, "post-migrating"
    h2.init_host()
    h2.move_rpc.drain()
    assert (inst.vm_state, inst.task_state, inst.host, mig.status) == (
        states.ACTIVE, None, "h1", "error")
    assert h2.move_rpc.sent == [("finish_revert_resize", "h1")]
    assert h1.driver.list_instance_uuids() == [inst.uuid]
    assert h1.conductor.claims == [("return", inst.uuid, mig.uuid)]


def test_restart_finishes_an_interrupted_confirm(hosts):
    h1 = hosts["h1"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    mig.status, inst.task_state = "confirming", states.RESIZE_CONFIRMING
    h1.init_host()
    h1.move_rpc.drain()
    assert (inst.vm_state, inst.task_state, mig.status) == (states.ACTIVE, None, "confirmed")


def test_power_sync_leaves_verify_resize_alone(hosts):
    h1 = hosts["h1"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h1")
    call(h1, "resize_instance", inst, mig)
    h1.sync_power_states(_ctx())
    assert inst.vm_state == states.RESIZED


def test_unconfirmed_resizes_are_confirmed_after_the_window(hosts):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _running(h1)
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    h2.poll_unconfirmed_resizes(_ctx())
    assert h2.conductor.actions == []  # window 0: off
    CONF.set_override("resize_confirm_window", 5)
    try:
        h1.poll_unconfirmed_resizes(_ctx())  # the source does not confirm
        assert h1.conductor.actions == []
        h2.poll_unconfirmed_resizes(_ctx())
        assert h2.conductor.actions == [(inst.uuid, "confirm_resize")]
    finally:
        CONF.clear_override("resize_confirm_window")


# -- rebuild -------------------------------------------------------------------------------

@pytest.mark.parametrize("orig, end", [(states.ACTIVE, states.ACTIVE),
                                       (states.STOPPED, states.STOPPED),
                                       (states.ERROR, states.ACTIVE)])
def test_rebuild_keeps_a_stopped_server_stopped(hosts, orig, end):
    h1 = hosts["h1"]
    inst = _running(h1)
    inst.task_state = states.REBUILDING
    h1.rebuild_instance(_ctx(), inst, orig)
    assert (inst.vm_state, inst.task_state) == (end, None)
    power = virt_driver.SHUTDOWN if end == states.STOPPED else virt_driver.RUNNING
    assert inst.power_state == power
    seen = [e[1:3] for e in h1.conductor.events if e[1] == "compute_rebuild_instance"]
    assert seen == [("compute_rebuild_instance", "start"),
                    ("compute_rebuild_instance", "finish")]


def test_rebuild_failure_is_error_with_fault(hosts):
    h1 = hosts["h1"]
    inst = _running(h1)
    inst.metadata = {"fake_spawn_error": "1"}
    inst.task_state = states.REBUILDING
    h1.rebuild_instance(_ctx(), inst, states.ACTIVE)
    assert (inst.vm_state, inst.task_state) == (states.ERROR, None)
    assert inst.host == "h1"  # still on its host, holding its claim
    assert "fake spawn failure" in h1.conductor.faults[-1][2]


def test_restart_marks_an_interrupted_rebuild_error(hosts):
    h1 = hosts["h1"]
    inst = _running(h1)
    inst.task_state = states.REBUILD_SPAWNING
    h1.init_host()
    h1.move_rpc.drain()
    assert (inst.vm_state, inst.task_state) == (states.ERROR, None)


# -- reclaim -------------------------------------------------------------------------------

def test_reclaim_deletes_soft_deleted_servers_after_the_interval(hosts):
    h1 = hosts["h1"]
    old = _running(h1)
    new = _running(h1)
    now = datetime.datetime.utcnow()
    for inst, when in ((old, now - datetime.timedelta(seconds=100)), (new, now)):
        inst.vm_state, inst.deleted_at = states.SOFT_DELETED, when
    h1.reclaim_queued_deletes(_ctx())
    assert h1.conductor.actions == []  # off by default
    CONF.set_override("reclaim_instance_interval", 60)
    try:
        h1.reclaim_queued_deletes(_ctx())
    finally:
        CONF.clear_override("reclaim_instance_interval")
    assert h1.conductor.actions == [(old.uuid, "force_delete")]
