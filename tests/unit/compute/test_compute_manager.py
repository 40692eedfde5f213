"""ComputeManager against the fake driver and an in-memory conductor."""

from __future__ import annotations

import datetime
import uuid

import pytest

from nova_lite import context, exception
from nova_lite.compute import manager, states
from nova_lite.conf import CONF
from nova_lite.objects.flavor import Flavor
from nova_lite.objects.instance import Instance
from nova_lite.virt import driver as virt_driver
from nova_lite.virt import fake


class FakeConductor:
    """Just enough of ConductorAPI for the compute manager, with the same guards."""

    def __init__(self) -> None:
        self.migrations, self.claims, self.actions = {}, [], []
        self.instances: dict[str, Instance] = {}
        self.faults: list[tuple] = []
        self.events: list[tuple] = []
        self.released: list[str] = []
        self.destroyed: list[str] = []
        self.bdms: dict[str, list] = {}  # instance uuid -> [BlockDeviceMapping]

    def instance_update(self, ctx, uuid, values, expected_task_state="__any__", event=None,
                        reply=True):
        inst = self.instances.get(uuid)
        if inst is None:
            raise exception.InstanceNotFound(instance_id=uuid)
        if expected_task_state != "__any__":
            allowed = (expected_task_state if isinstance(expected_task_state, list)
                       else [expected_task_state])
            if inst.task_state not in allowed:
                raise exception.InstanceInvalidState(action="update", instance_uuid=uuid,
                                                     attr="task_state", state=inst.task_state)
        for k, v in values.items():
            setattr(inst, k, v)
        if event:
            self.action_event(ctx, uuid, event["event"], event["phase"], event.get("host"),
                              event.get("result"))
        return inst if reply else None

    def instance_fault_create(self, ctx, uuid, code, message, details, host):
        self.faults.append((uuid, code, message))

    def action_event(self, ctx, uuid, event, phase, host, result=None, traceback=None):
        self.events.append((uuid, event, phase, result))

    def release_resources(self, ctx, consumer_id):
        self.released.append(consumer_id)

    def instance_destroy(self, ctx, uuid, event=None, host=None):
        if event is not None:
            self.action_event(ctx, uuid, event, "finish", host, "Success")
        self.destroyed.append(uuid)
        self.instances.pop(uuid, None)

    def instance_list_by_host(self, ctx, host):
        return [i for i in self.instances.values() if i.host == host]

    def server_get(self, ctx, uuid):
        if uuid not in self.instances:
            raise exception.InstanceNotFound(instance_id=uuid)
        return self.instances[uuid]

    # -- block device mappings -------------------------------------------------------------
    def bdm_list_by_instance(self, ctx, instance_uuid):
        from nova_lite.objects.block_device import BlockDeviceMappingList

        return BlockDeviceMappingList.of([b.obj_clone()
                                          for b in self.bdms.get(instance_uuid, [])])

    def bdm_list_by_instances(self, ctx, instance_uuids):
        return {u: [b.obj_clone() for b in self.bdms.get(u, [])] for u in instance_uuids}

    def bdm_update(self, ctx, instance_uuid, bdm_uuid, values):
        bdm = next(b for b in self.bdms[instance_uuid] if b.uuid == bdm_uuid)
        for k, v in values.items():
            setattr(bdm, k, v)
        return bdm.obj_clone()

    # -- moves (the same guards as the real migration_step) ------------------------------
    migrations: dict = {}
    claims: list = []
    actions: list = []

    def migration_list(self, ctx, instance_uuid=None, host=None, status=None,
                       in_progress=None, migration_type=None, unchanged_for=None,
                       limit=None):
        out = []
        for m in self.migrations.values():
            if instance_uuid and m.instance_uuid != instance_uuid:
                continue
            if host and host not in (m.source_compute, m.dest_compute):
                continue
            if status and m.status not in ([status] if isinstance(status, str) else status):
                continue
            if in_progress is not None and m.in_progress != in_progress:
                continue
            out.append(m)
        return out

    def migration_step(self, ctx, instance_uuid, migration_uuid, instance_values,
                       migration_values, expected_task_state="__any__", expected_status=None,
                       claims=None, event=None, fault=None):
        mig = self.migrations[migration_uuid]
        if claims:
            self.claims.append((claims, instance_uuid, migration_uuid))
        if expected_status is not None:
            allowed = [expected_status] if isinstance(expected_status, str) else expected_status
            if mig.status not in allowed:
                raise exception.MigrationInvalidState(migration_id=migration_uuid,
                                                      status=mig.status)
        inst = self.instance_update(ctx, instance_uuid, instance_values, expected_task_state,
                                    event)
        for k, v in migration_values.items():
            setattr(mig, k, v)
        if fault:
            self.faults.append((instance_uuid, fault.get("code"), fault["message"]))
        return inst

    def server_action(self, ctx, uuid, action, params=None):
        self.actions.append((uuid, action))


def _instance(**kw) -> Instance:
    flavor = Flavor(id=1, flavorid="1", name="m1.tiny", memory_mb=512, vcpus=1, root_gb=1,
                    ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True, disabled=False,
                    description=None, extra_specs={})
    values = dict(id=7, uuid=str(uuid.uuid4()), display_name="vm", project_id="p",
                  user_id="u", host="h1", node="h1", vm_state=states.BUILDING,
                  task_state=states.SCHEDULING, power_state=0, image_ref=None, flavor=flavor,
                  vcpus=1, memory_mb=512, root_gb=1, metadata={}, locked=False,
                  launch_index=0, deleted=False, fault=None, cell_name="cell1",
                  created_at=datetime.datetime.utcnow())
    values.update(kw)
    return Instance(**values)


@pytest.fixture
def mgr():
    cond = FakeConductor()
    m = manager.ComputeManager("h1", conductor=cond,
                               driver=fake.FakeDriver("h1", None, CONF))
    m.driver.init_host(m._lifecycle_event)
    return m


def _ctx():
    return context.RequestContext(user_id="u", project_id="p")


def test_build_goes_active(mgr):
    inst = _instance()
    mgr.conductor.instances[inst.uuid] = inst
    mgr.build_and_run_instance(_ctx(), inst)
    assert (inst.vm_state, inst.task_state, inst.power_state) == (states.ACTIVE, None, 1)
    assert (inst.uuid, "compute_build_and_run_instance", "finish", "Success") in \
        mgr.conductor.events


def test_build_failure_records_fault_and_releases_claim(mgr):
    inst = _instance(metadata={"fake_spawn_error": "1"})
    mgr.conductor.instances[inst.uuid] = inst
    mgr.build_and_run_instance(_ctx(), inst)
    assert inst.vm_state == states.ERROR and inst.task_state is None
    assert mgr.conductor.faults[0][2] == "fake spawn failure requested by metadata"
    assert mgr.conductor.released == [inst.uuid]
    assert mgr.driver.list_instance_uuids() == []


def test_build_of_deleted_instance_does_nothing(mgr):
    inst = _instance()
    mgr.build_and_run_instance(_ctx(), inst)  # not known to the conductor: deleted
    assert mgr.driver.list_instance_uuids() == []


@pytest.mark.parametrize("action,vm_state,power", [
    ("stop", states.STOPPED, virt_driver.SHUTDOWN),
    ("pause", states.PAUSED, virt_driver.PAUSED),
    ("suspend", states.SUSPENDED, virt_driver.SUSPENDED),
    ("reboot", states.ACTIVE, virt_driver.RUNNING),
    ("reboot_hard", states.ACTIVE, virt_driver.RUNNING),
])
def test_actions_follow_the_state_machine(mgr, action, vm_state, power):
    inst = _instance()
    mgr.conductor.instances[inst.uuid] = inst
    mgr.build_and_run_instance(_ctx(), inst)
    t = states.check(action, inst.uuid, inst.vm_state, inst.task_state)
    inst.task_state = t.task_state
    mgr.run_action(_ctx(), inst, action, {})
    assert (inst.vm_state, inst.task_state, inst.power_state) == (vm_state, None, power)


def test_guest_powered_off_outside_is_recorded(mgr):
    inst = _instance()
    mgr.conductor.instances[inst.uuid] = inst
    mgr.build_and_run_instance(_ctx(), inst)
    mgr.driver.simulate_external_power_off(inst.uuid)
    assert inst.vm_state == states.STOPPED and inst.power_state == virt_driver.SHUTDOWN


def test_restart_reconciles_interrupted_work(mgr):
    building = _instance(task_state=states.SPAWNING)
    deleting = _instance(vm_state=states.ACTIVE, task_state=states.DELETING)
    stuck = _instance(vm_state=states.ACTIVE, task_state=states.POWERING_OFF)
    for i in (building, deleting, stuck):
        mgr.conductor.instances[i.uuid] = i
    mgr.driver.spawn(manager.instance_spec(stuck), {})
    mgr.driver.spawn(manager.instance_spec(deleting), {})
    orphan = _instance()
    mgr.driver.spawn(manager.instance_spec(orphan), {})
    mgr.init_host()
    assert building.vm_state == states.ERROR and building.uuid in mgr.conductor.released
    assert deleting.uuid in mgr.conductor.destroyed
    assert stuck.task_state is None and stuck.vm_state == states.ACTIVE
    assert set(mgr.driver.list_instance_uuids()) == {stuck.uuid}


def test_console_output_length(mgr):
    inst = _instance()
    mgr.conductor.instances[inst.uuid] = inst
    mgr.build_and_run_instance(_ctx(), inst)
    for _ in range(3):
        mgr.driver.reboot(manager.instance_spec(inst), "SOFT")
    out = mgr.get_console_output(_ctx(), inst, 2)
    assert out.splitlines() == ["fake reboot", "fake reboot"]
