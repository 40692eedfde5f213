"""The server state machine: which operation may start from which state, and the
status the API shows. Expectations are written out here as Nova behaves, not derived
from the table under test."""

from __future__ import annotations

import itertools

import pytest

from nova_lite import exception
from nova_lite.compute import states as s

UUID = "6f1c8a36-8a56-4b8e-9d58-2b3c0f1b9a11"

SHELVE_TASKS = (s.SHELVING, s.SHELVING_IMAGE_PENDING_UPLOAD, s.SHELVING_IMAGE_UPLOADING,
                s.SHELVING_OFFLOADING, s.UNSHELVING)
IMAGE_TASKS = (s.IMAGE_SNAPSHOT, s.IMAGE_BACKUP, s.IMAGE_PENDING_UPLOAD, s.IMAGE_UPLOADING)
ALL_TASK_STATES = (None, s.SCHEDULING, s.NETWORKING, s.SPAWNING, s.REBOOTING,
                   s.REBOOTING_HARD, s.POWERING_OFF, s.POWERING_ON, s.PAUSING, s.UNPAUSING,
                   s.SUSPENDING, s.RESUMING, s.DELETING, *SHELVE_TASKS, s.RESCUING,
                   s.UNRESCUING, *IMAGE_TASKS, s.UPDATING_PASSWORD, s.REBUILDING,
                   s.REBUILD_BLOCK_DEVICE_MAPPING, s.REBUILD_SPAWNING, s.RESIZE_PREP,
                   s.RESIZE_MIGRATING, s.RESIZE_MIGRATED, s.RESIZE_FINISH, s.RESIZE_REVERTING,
                   s.RESIZE_CONFIRMING, s.SOFT_DELETING, s.RESTORING, s.MIGRATING)
VM_STATES = (*s.ALL_VM_STATES, s.DELETED, None)
EVERY_STATE = (s.ACTIVE, s.BUILDING, s.PAUSED, s.SUSPENDED, s.STOPPED, s.ERROR, s.RESCUED,
               s.SHELVED, s.SHELVED_OFFLOADED, s.RESIZED, s.SOFT_DELETED)
SNAPSHOT_FROM = {s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED}

# action -> (vm_states it may start from, task_states it may start from,
#            task_state held while running, vm_state it ends in)
EXPECTED = {
    "build": ({s.BUILDING}, {None, s.SCHEDULING, s.NETWORKING}, s.SPAWNING, s.ACTIVE),
    "delete": (set(EVERY_STATE), set(ALL_TASK_STATES), s.DELETING, s.DELETED),
    "reboot": ({s.ACTIVE}, {None}, s.REBOOTING, s.ACTIVE),
    "reboot_hard": ({s.ACTIVE, s.STOPPED, s.PAUSED, s.SUSPENDED, s.ERROR},
                    {None, s.REBOOTING}, s.REBOOTING_HARD, s.ACTIVE),
    "stop": ({s.ACTIVE, s.ERROR}, {None}, s.POWERING_OFF, s.STOPPED),
    "start": ({s.STOPPED}, {None}, s.POWERING_ON, s.ACTIVE),
    "pause": ({s.ACTIVE}, {None}, s.PAUSING, s.PAUSED),
    "unpause": ({s.PAUSED}, {None}, s.UNPAUSING, s.ACTIVE),
    "suspend": ({s.ACTIVE}, {None}, s.SUSPENDING, s.SUSPENDED),
    "resume": ({s.SUSPENDED}, {None}, s.RESUMING, s.ACTIVE),
    "shelve": (SNAPSHOT_FROM, {None}, s.SHELVING, s.SHELVED),
    "shelveOffload": ({s.SHELVED}, {None}, s.SHELVING_OFFLOADING, s.SHELVED_OFFLOADED),
    "unshelve": ({s.SHELVED, s.SHELVED_OFFLOADED}, {None}, s.UNSHELVING, s.ACTIVE),
    "rescue": ({s.ACTIVE, s.STOPPED, s.ERROR}, {None}, s.RESCUING, s.RESCUED),
    "unrescue": ({s.RESCUED}, {None}, s.UNRESCUING, s.ACTIVE),
    "createImage": (SNAPSHOT_FROM, {None}, s.IMAGE_SNAPSHOT, None),
    "createBackup": (SNAPSHOT_FROM, {None}, s.IMAGE_BACKUP, None),
    "trigger_crash_dump": ({s.ACTIVE, s.PAUSED, s.RESCUED, s.ERROR}, {None}, None, None),
    "changePassword": ({s.ACTIVE}, {None}, s.UPDATING_PASSWORD, None),
    # done in the database alone, whatever runs (Nova checks no state for them)
    "lock": (set(EVERY_STATE), set(ALL_TASK_STATES), None, None),
    "unlock": (set(EVERY_STATE), set(ALL_TASK_STATES), None, None),
    "reset_state": (set(EVERY_STATE), set(ALL_TASK_STATES), None, None),
    "rebuild": ({s.ACTIVE, s.STOPPED, s.ERROR}, {None}, s.REBUILDING, s.ACTIVE),
    "resize": ({s.ACTIVE, s.STOPPED}, {None}, s.RESIZE_PREP, s.RESIZED),
    "migrate": ({s.ACTIVE, s.STOPPED}, {None}, s.RESIZE_PREP, s.RESIZED),
    "confirm_resize": ({s.RESIZED}, {None}, s.RESIZE_CONFIRMING, s.ACTIVE),
    "revert_resize": ({s.RESIZED}, {None}, s.RESIZE_REVERTING, s.ACTIVE),
    "soft_delete": (set(EVERY_STATE) - {s.SOFT_DELETED}, {None}, s.SOFT_DELETING,
                    s.SOFT_DELETED),
    "restore": ({s.SOFT_DELETED}, {None}, s.RESTORING, s.ACTIVE),
    "force_delete": (set(EVERY_STATE), {None}, s.DELETING, s.DELETED),
    "live_migration": ({s.ACTIVE, s.PAUSED}, {None}, s.MIGRATING, None),
    "evacuate": ({s.ACTIVE, s.STOPPED, s.ERROR}, {None}, s.REBUILDING, s.ACTIVE),
}
# Task states each multi-step operation passes through after its first, in Nova's order.
STEPS = {
    "shelve": (s.SHELVING_IMAGE_PENDING_UPLOAD, s.SHELVING_IMAGE_UPLOADING),
    "unshelve": (s.SPAWNING,),
    "createImage": (s.IMAGE_PENDING_UPLOAD, s.IMAGE_UPLOADING),
    "createBackup": (s.IMAGE_PENDING_UPLOAD, s.IMAGE_UPLOADING),
    "rebuild": (s.REBUILD_BLOCK_DEVICE_MAPPING, s.REBUILD_SPAWNING),
    "resize": (s.RESIZE_MIGRATING, s.RESIZE_MIGRATED, s.RESIZE_FINISH),
    "migrate": (s.RESIZE_MIGRATING, s.RESIZE_MIGRATED, s.RESIZE_FINISH),
}


# The action as Nova's 409 message names it.
VERBS = {"reboot_hard": "reboot", "confirm_resize": "confirmResize",
         "revert_resize": "revertResize", "force_delete": "forceDelete",
         "soft_delete": "delete", "reset_state": "resetState",
         "live_migration": "os-migrateLive"}


def test_every_action_is_declared() -> None:
    assert set(s.TRANSITIONS) == set(EXPECTED)
    for name, t in s.TRANSITIONS.items():
        assert t.name == name and s.get(name) is t
        assert (t.task_state, t.to_vm_state) == EXPECTED[name][2:]
        assert t.steps == STEPS.get(name, ())


def _outcome(action: str, vm_state: str | None, task_state: str | None) -> str:
    try:
        assert s.check(action, UUID, vm_state, task_state) is s.TRANSITIONS[action]
    except exception.InstanceInvalidState as err:
        assert err.code == 409
        return err.format_message()
    return "allowed"


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_check_allows_exactly_the_expected_states(action: str) -> None:
    """Every (vm_state, task_state) pair: allowed, or 409 naming what is in the way."""
    vm_ok, task_ok = EXPECTED[action][0], EXPECTED[action][1]
    verb = VERBS.get(action, action)
    wrong = []
    for vm_state, task_state in itertools.product(VM_STATES, ALL_TASK_STATES):
        if vm_state not in vm_ok:  # the vm_state is reported first, as Nova does
            want = f"Cannot '{verb}' instance {UUID} while it is in vm_state {vm_state}"
        elif task_state not in task_ok:
            want = f"Cannot '{verb}' instance {UUID} while it is in task_state {task_state}"
        else:
            want = "allowed"
        got = _outcome(action, vm_state, task_state)
        if got != want:
            wrong.append((vm_state, task_state, got))
    assert wrong == []


@pytest.mark.parametrize("action,vm_state,task_state,message", [
    ("stop", s.STOPPED, None, f"Cannot 'stop' instance {UUID} while it is in vm_state stopped"),
    ("start", s.ACTIVE, None, f"Cannot 'start' instance {UUID} while it is in vm_state active"),
    ("reboot", s.STOPPED, None,
     f"Cannot 'reboot' instance {UUID} while it is in vm_state stopped"),
    ("reboot_hard", s.ACTIVE, s.POWERING_OFF,
     f"Cannot 'reboot' instance {UUID} while it is in task_state powering-off"),
    ("pause", s.ACTIVE, s.PAUSING,
     f"Cannot 'pause' instance {UUID} while it is in task_state pausing"),
    ("resume", s.DELETED, None,
     f"Cannot 'resume' instance {UUID} while it is in vm_state deleted"),
    ("delete", s.DELETED, s.DELETING,
     f"Cannot 'delete' instance {UUID} while it is in vm_state deleted"),
])
def test_conflict_messages_read_as_novas(action: str, vm_state: str, task_state: str | None,
                                         message: str) -> None:
    with pytest.raises(exception.InstanceInvalidState) as err:
        s.check(action, UUID, vm_state, task_state)
    assert str(err.value) == message
    assert err.value.kwargs["instance_uuid"] == UUID


def test_every_end_state_allows_delete() -> None:
    for t in s.TRANSITIONS.values():
        if t.to_vm_state not in (s.DELETED, None):
            s.check("delete", UUID, t.to_vm_state, None)


def test_every_task_state_allows_delete() -> None:
    for t in s.TRANSITIONS.values():
        for task in (t.task_state, *t.steps):
            for vm_state in t.from_vm_states:
                if vm_state != s.BUILDING:
                    s.check("delete", UUID, vm_state, task)


def test_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        s.check("fly", UUID, s.ACTIVE, None)


@pytest.mark.parametrize("vm_state,task_state,action", [
    (s.ACTIVE, s.SHELVING_IMAGE_UPLOADING, "shelve"),
    (s.STOPPED, s.SHELVING, "shelve"),
    (s.SHELVED, s.SHELVING_OFFLOADING, "shelveOffload"),
    (s.SHELVED_OFFLOADED, s.UNSHELVING, "unshelve"),
    (s.SHELVED_OFFLOADED, s.SPAWNING, "unshelve"),
    (s.BUILDING, s.SPAWNING, "build"),
    (s.ACTIVE, s.IMAGE_UPLOADING, "createImage"),
    (s.PAUSED, s.IMAGE_BACKUP, "createBackup"),
    (s.RESCUED, s.UNRESCUING, "unrescue"),
    (s.STOPPED, s.RESCUING, "rescue"),
    (s.ACTIVE, None, None),
    (s.SHELVED, s.SPAWNING, "unshelve"),
])
def test_interrupted_names_the_operation(vm_state, task_state, action) -> None:
    t = s.interrupted(vm_state, task_state)
    assert (t.name if t else None) == action


@pytest.mark.parametrize("vm_state,task_state,status", [
    (s.ACTIVE, None, "ACTIVE"),
    (s.ACTIVE, s.REBOOTING, "REBOOT"),
    (s.ACTIVE, s.REBOOTING_HARD, "HARD_REBOOT"),
    (s.ACTIVE, s.POWERING_OFF, "ACTIVE"),
    (s.ACTIVE, s.PAUSING, "ACTIVE"),
    (s.ACTIVE, s.DELETING, "ACTIVE"),
    (s.BUILDING, None, "BUILD"),
    (s.BUILDING, s.SCHEDULING, "BUILD"),
    (s.BUILDING, s.SPAWNING, "BUILD"),
    (s.BUILDING, s.DELETING, "BUILD"),
    (s.STOPPED, None, "SHUTOFF"),
    (s.STOPPED, s.POWERING_ON, "SHUTOFF"),
    (s.STOPPED, s.REBOOTING_HARD, "HARD_REBOOT"),
    (s.PAUSED, None, "PAUSED"),
    (s.PAUSED, s.UNPAUSING, "PAUSED"),
    (s.PAUSED, s.REBOOTING_HARD, "HARD_REBOOT"),
    (s.SUSPENDED, None, "SUSPENDED"),
    (s.SUSPENDED, s.RESUMING, "SUSPENDED"),
    (s.SUSPENDED, s.REBOOTING_HARD, "HARD_REBOOT"),
    (s.ERROR, None, "ERROR"),
    (s.ERROR, s.REBOOTING_HARD, "HARD_REBOOT"),
    (s.ERROR, s.DELETING, "ERROR"),
    (s.DELETED, None, "DELETED"),
    (s.ACTIVE, s.REBUILDING, "REBUILD"),
    (s.STOPPED, s.REBUILD_BLOCK_DEVICE_MAPPING, "REBUILD"),
    (s.ERROR, s.REBUILD_SPAWNING, "REBUILD"),
    (s.ACTIVE, s.RESIZE_PREP, "RESIZE"),
    (s.ACTIVE, s.RESIZE_MIGRATING, "RESIZE"),
    (s.STOPPED, s.RESIZE_MIGRATED, "RESIZE"),
    (s.STOPPED, s.RESIZE_FINISH, "RESIZE"),
    (s.ERROR, s.RESIZE_PREP, "ERROR"),
    (s.RESIZED, None, "VERIFY_RESIZE"),
    (s.RESIZED, s.RESIZE_CONFIRMING, "VERIFY_RESIZE"),
    (s.RESIZED, s.RESIZE_REVERTING, "REVERT_RESIZE"),
    (s.SOFT_DELETED, None, "SOFT_DELETED"),
    (s.SOFT_DELETED, s.RESTORING, "SOFT_DELETED"),
    (s.ACTIVE, s.SOFT_DELETING, "ACTIVE"),
    (None, None, "UNKNOWN"),
    ("bogus", None, "UNKNOWN"),
    (s.ACTIVE, s.UPDATING_PASSWORD, "PASSWORD"),
    (s.ACTIVE, s.IMAGE_SNAPSHOT, "ACTIVE"),
    (s.ACTIVE, s.SHELVING_IMAGE_UPLOADING, "ACTIVE"),
    (s.STOPPED, s.IMAGE_UPLOADING, "SHUTOFF"),
    (s.RESCUED, None, "RESCUE"),
    (s.RESCUED, s.UNRESCUING, "RESCUE"),
    (s.SHELVED, None, "SHELVED"),
    (s.SHELVED, s.UNSHELVING, "SHELVED"),
    (s.SHELVED_OFFLOADED, None, "SHELVED_OFFLOADED"),
    (s.SHELVED_OFFLOADED, s.SPAWNING, "SHELVED_OFFLOADED"),
])
def test_api_status(vm_state: str | None, task_state: str | None, status: str) -> None:
    assert s.api_status(vm_state, task_state) == status


def test_status_filter_covers_every_status_shown() -> None:
    """GET /servers?status=X must find every server whose status is X."""
    for vm_state, task_state in itertools.product(VM_STATES, ALL_TASK_STATES):
        status = s.api_status(vm_state, task_state)
        if status != "UNKNOWN":
            assert vm_state in s.STATUS_TO_VM_STATES[status], (vm_state, task_state)
    for status, vm_states in s.STATUS_TO_VM_STATES.items():
        for vm_state in vm_states:
            assert any(s.api_status(vm_state, t) == status for t in ALL_TASK_STATES)


def test_every_transition_ends_in_a_shown_status() -> None:
    for t in s.TRANSITIONS.values():
        if t.to_vm_state is not None:
            assert s.api_status(t.to_vm_state, None) != "UNKNOWN"
        for vm_state in t.from_vm_states:  # while it runs, too
            assert s.api_status(vm_state, t.task_state) != "UNKNOWN"


def test_every_transition_says_how_it_is_carried_out() -> None:
    """The API key, policy rule, driver call and event of each action live in the table,
    and each names something that exists."""
    import inspect

    from nova_lite import policies
    from nova_lite.api.handlers import server_actions
    from nova_lite.api.schemas import server_actions as action_schemas
    from nova_lite.compute.manager import ComputeManager
    from nova_lite.virt import driver, fake
    from nova_lite.virt.libvirt.driver import LibvirtDriver

    rules = {r.name for r in policies.list_rules()}
    for t in s.TRANSITIONS.values():
        assert t.event, t.name
        assert t.driver_call or t.instant, t.name
        for name in (t.compute_method, t.on_restart):
            assert name is None or callable(getattr(ComputeManager, name)), (t.name, name)
        calls = [c for c in (t.driver_call, *(st.driver_call for st in t.step_calls)) if c]
        for cls in (driver.ComputeDriver, fake.FakeDriver, LibvirtDriver):
            for call in calls:
                assert callable(getattr(cls, call)), (t.name, call)
            if t.driver_call:
                method = getattr(cls, t.driver_call)
                params = list(inspect.signature(method).parameters)[2:]  # self, instance
                assert len(t.driver_args) <= len(params), (t.name, params)
        for st in t.step_calls:
            assert st.host in ("host", "source", "dest"), (t.name, st)
            assert st.task_state in (t.task_state, *t.steps)
            assert s.step(t.name, st.task_state) is st
        if t.policy is not None:
            assert t.policy in rules, t.policy
        for arg in t.driver_args:
            if isinstance(arg, s.ConfValue):
                from nova_lite.conf import CONF

                assert hasattr(getattr(CONF, arg.group), arg.name)
    for key, t in s.BY_API_KEY.items():
        assert t.policy, key
        assert key in action_schemas.SIMPLE or key in server_actions.HANDLERS, key


class _Ctx:
    def __init__(self, is_admin: bool) -> None:
        self.is_admin = is_admin


def _inst(locked: bool, vm_state: str = s.ACTIVE, task_state: str | None = None):
    from nova_lite.objects.instance import Instance

    return Instance(uuid=UUID, vm_state=vm_state, task_state=task_state, locked=locked)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_a_locked_server_refuses_non_admins(action: str) -> None:
    """Nova's lock rule, for every action: 409 "is locked" to its owner, nothing for an
    admin, and never for lock, unlock or resetState (nor a build, started by nobody)."""
    vm_state = sorted(EXPECTED[action][0])[0]
    # Nova: the lock guards against changes and deletes; snapshots are neither
    exempt = {"lock", "unlock", "reset_state", "build", "createImage", "createBackup"}
    assert s.check_allowed(action, _inst(True, vm_state), _Ctx(True)) is s.get(action)
    assert s.check_allowed(action, _inst(False, vm_state), _Ctx(False)) is s.get(action)
    if action in exempt:
        assert s.check_allowed(action, _inst(True, vm_state), _Ctx(False)) is s.get(action)
        return
    with pytest.raises(exception.InstanceIsLocked) as err:
        s.check_allowed(action, _inst(True, vm_state), _Ctx(False))
    assert err.value.code == 409
    assert str(err.value) == f"Instance {UUID} is locked"


def test_lock_is_checked_before_the_state() -> None:
    with pytest.raises(exception.InstanceIsLocked):
        s.check_allowed("start", _inst(True, s.ACTIVE), _Ctx(False))
    with pytest.raises(exception.InstanceInvalidState):
        s.check_allowed("start", _inst(False, s.ACTIVE), _Ctx(False))


def test_calls_without_a_task_state_need_an_idle_unlocked_server_on_a_host() -> None:
    """Volume and interface attach/detach: the lock first, then the vm_state, a task in
    progress (named in the 409), and a host."""
    allowed = (s.ACTIVE, s.STOPPED)

    def on_host(host="h1", **kw):
        inst = _inst(**kw)
        inst.host = host
        return inst

    s.check_idle_on_host("attach_volume", on_host(locked=True), _Ctx(True), allowed)
    s.check_idle_on_host("attach_volume", on_host(locked=False, vm_state=s.STOPPED),
                         _Ctx(False), allowed)
    with pytest.raises(exception.InstanceIsLocked):
        s.check_idle_on_host("attach_volume", on_host(locked=True, vm_state=s.ERROR),
                             _Ctx(False), allowed)
    cases = ((on_host(locked=False, vm_state=s.ERROR), "vm_state error"),
             (on_host(locked=False, task_state=s.REBOOTING), "task_state rebooting"),
             (on_host(locked=False, host=None), "vm_state active"))  # no host yet
    for inst, said in cases:
        with pytest.raises(exception.InstanceInvalidState) as err:
            s.check_idle_on_host("detach_interface", inst, _Ctx(False), allowed)
        assert err.value.code == 409 and said in str(err.value), str(err.value)
        assert "detach_interface" in str(err.value)


def test_resize_steps_follow_novas_task_states() -> None:
    t = s.get("resize")
    assert [t.task_state, *t.steps] == [
        "resize_prep", "resize_migrating", "resize_migrated", "resize_finish"]
    assert [st.host for st in t.step_calls] == ["source", "source", "dest"]
    assert [s.get("rebuild").task_state, *s.get("rebuild").steps] == [
        "rebuilding", "rebuild_block_device_mapping", "rebuild_spawning"]
    with pytest.raises(KeyError):
        s.step("resize", s.RESIZE_REVERTING)
