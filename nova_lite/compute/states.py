"""The server state machine, declared in one place.

A server has a ``vm_state`` (stable condition), a ``task_state`` (an operation in
progress, or None) and a ``power_state`` (what the hypervisor reports). Every operation
is a named Transition: the vm_states it may start from, the task_state it holds while it
runs, and the vm_state it ends in. The conductor asks ``check()`` whether an operation
may start (409 otherwise, with Nova's message); the compute manager looks the transition
up with ``get()`` to finish it. ``check_allowed()`` is the one gate every action of a user
passes: Nova's lock rule (a locked server refuses non-admins, 409), then the state rule.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Optional

from nova_lite import exception

# vm_states (Nova's values)
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
ERROR = "error"
DELETED = "deleted"
RESCUED = "rescued"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"
RESIZED = "resized"  # shown as VERIFY_RESIZE
SOFT_DELETED = "soft-delete"

# task_states (Nova's values)
SCHEDULING = "scheduling"
NETWORKING = "networking"
SPAWNING = "spawning"
REBOOTING = "rebooting"
REBOOTING_HARD = "rebooting_hard"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
DELETING = "deleting"
SHELVING = "shelving"
SHELVING_IMAGE_PENDING_UPLOAD = "shelving_image_pending_upload"
SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
SHELVING_OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_BACKUP = "image_backup"
IMAGE_PENDING_UPLOAD = "image_pending_upload"
IMAGE_UPLOADING = "image_uploading"
UPDATING_PASSWORD = "updating_password"
REBUILDING = "rebuilding"
REBUILD_BLOCK_DEVICE_MAPPING = "rebuild_block_device_mapping"
REBUILD_SPAWNING = "rebuild_spawning"
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_MIGRATED = "resize_migrated"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
SOFT_DELETING = "soft-deleting"
RESTORING = "restoring"
MIGRATING = "migrating"  # live migration

ALL_VM_STATES = (ACTIVE, BUILDING, PAUSED, SUSPENDED, STOPPED, ERROR, RESCUED, SHELVED,
                 SHELVED_OFFLOADED, RESIZED, SOFT_DELETED)
# vm_states the periodic power sync may change to match the hypervisor; the others
# (resized, soft-deleted, ...) say more than the power state and are left alone.
POWER_SYNCED_VM_STATES = frozenset((ACTIVE, STOPPED, PAUSED, SUSPENDED))
RESIZE_TASK_STATES = (RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH)
REBUILD_TASK_STATES = (REBUILDING, REBUILD_BLOCK_DEVICE_MAPPING, REBUILD_SPAWNING)
# from_task_states of actions that may start whatever is in progress (lock, resetState).
ANY_TASK_STATE: tuple = ("<any>",)


@dataclasses.dataclass(frozen=True)
class ConfValue:
    """A driver argument read from the compute host's configuration when the call is made."""

    group: str
    name: str


@dataclasses.dataclass(frozen=True)
class Step:
    """A later step of a multi-step operation, run where ``host`` says ("source" or
    "dest" of a move, or "host" for the server's own host)."""

    task_state: Optional[str]  # held while this step runs
    host: str
    driver_call: Optional[str]
    event: Optional[str]  # instance-action event, recorded as compute_<event>


@dataclasses.dataclass(frozen=True)
class Transition:
    """One operation: where it may start, what it holds and ends in, and how each service
    carries it out (the API key and policy that start it, the driver call, the event)."""

    name: str  # the action name, as Nova's 409 message and instance actions spell it
    from_vm_states: tuple[str, ...]
    task_state: Optional[str]  # held while the operation runs
    to_vm_state: Optional[str]  # None: the vm_state is left as it is
    # task_states the operation may interrupt (None = only when idle)
    from_task_states: tuple[Optional[str], ...] = (None,)
    # key of the POST /servers/{id}/action body that starts it (None: not started that way,
    # or chosen by the handler from the body, as reboot's type is)
    api_key: Optional[str] = None
    policy: Optional[str] = None  # the rule the API checks against the server's project
    driver_call: Optional[str] = None  # ComputeDriver method the compute host calls
    driver_args: tuple = ()  # positional arguments after the InstanceSpec
    event: Optional[str] = None  # instance-action event, recorded as compute_<event>
    record: Optional[str] = None  # instance-action name when it differs from ``name``
    # task_states it then passes through, in order, after ``task_state``
    steps: tuple[str, ...] = ()
    # ComputeManager method that carries it out when it takes more than one driver call:
    # called as method(ctx, instance, transition, params)
    compute_method: Optional[str] = None
    # ComputeManager method that settles an instance a restart of nova-compute caught in
    # this operation (method(ctx, instance)); None: clear the task, follow the hypervisor
    on_restart: Optional[str] = None
    # Nova's lock rule: a locked server refuses the action to anyone but an admin.
    refused_when_locked: bool = True
    # Where and how each of ``steps`` runs, when another host carries it out (moves).
    step_calls: tuple[Step, ...] = ()
    verb: Optional[str] = None  # the action in Nova's 409 message, when not name's stem

    @property
    def conflict_verb(self) -> str:
        return self.verb or self.action_record

    @property
    def action_record(self) -> str:
        return self.record or self.name

    @property
    def instant(self) -> bool:
        """Done in the database alone, with no task_state held (lock, resetState)."""
        return self.task_state is None and self.driver_call is None


_SHUTDOWN_TIMEOUT = ConfValue("compute", "shutdown_timeout")
# Where a snapshot may be taken from (Nova's createImage, createBackup).
_SNAPSHOT_FROM = (ACTIVE, STOPPED, PAUSED, SUSPENDED)

# resize: scheduled by the conductor (resize_prep), then the source host powers off and
# hands the disk over, the destination starts the new guest. The server waits in
# VERIFY_RESIZE for confirmResize or revertResize.
_RESIZE_TRANSITION = Transition(
    "resize", (ACTIVE, STOPPED), RESIZE_PREP, RESIZED, api_key="resize",
    policy="os_compute_api:servers:resize", driver_call="migrate_disk_and_power_off",
    event="resize_instance", steps=(RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH),
    step_calls=(Step(RESIZE_MIGRATING, "source", "migrate_disk_and_power_off",
                     "resize_instance"),
                Step(RESIZE_MIGRATED, "source", None, None),
                Step(RESIZE_FINISH, "dest", "finish_migration", "finish_resize")),
    on_restart="restarted_in_move")

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("build", (BUILDING,), SPAWNING, ACTIVE, (SCHEDULING, None, NETWORKING),
                   driver_call="spawn", event="build_and_run_instance",
                   refused_when_locked=False),
        Transition("delete", ALL_VM_STATES, DELETING, DELETED,
                   (None, SCHEDULING, NETWORKING, SPAWNING, REBOOTING, REBOOTING_HARD,
                    POWERING_OFF, POWERING_ON, PAUSING, UNPAUSING, SUSPENDING, RESUMING,
                    DELETING, SHELVING, SHELVING_IMAGE_PENDING_UPLOAD,
                    SHELVING_IMAGE_UPLOADING, SHELVING_OFFLOADING, UNSHELVING, RESCUING,
                    UNRESCUING, IMAGE_SNAPSHOT, IMAGE_BACKUP, IMAGE_PENDING_UPLOAD,
                    IMAGE_UPLOADING, UPDATING_PASSWORD, *REBUILD_TASK_STATES,
                    *RESIZE_TASK_STATES, RESIZE_REVERTING, RESIZE_CONFIRMING, SOFT_DELETING,
                    RESTORING, MIGRATING),
                   policy="os_compute_api:servers:delete", driver_call="destroy",
                   event="terminate_instance"),
        # A soft (ACPI) reboot needs a running guest; Nova allows it from ACTIVE only.
        Transition("reboot", (ACTIVE,), REBOOTING, ACTIVE,
                   policy="os_compute_api:servers:reboot", driver_call="reboot",
                   driver_args=("SOFT",), event="reboot_instance"),
        Transition("reboot_hard", (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR),
                   REBOOTING_HARD, ACTIVE, (None, REBOOTING),
                   policy="os_compute_api:servers:reboot", driver_call="reboot",
                   driver_args=("HARD",), event="reboot_instance", record="reboot"),
        Transition("stop", (ACTIVE, ERROR), POWERING_OFF, STOPPED, api_key="os-stop",
                   policy="os_compute_api:servers:stop", driver_call="power_off",
                   driver_args=(_SHUTDOWN_TIMEOUT,), event="stop_instance"),
        Transition("start", (STOPPED,), POWERING_ON, ACTIVE, api_key="os-start",
                   policy="os_compute_api:servers:start", driver_call="power_on",
                   event="start_instance"),
        Transition("pause", (ACTIVE,), PAUSING, PAUSED, api_key="pause",
                   policy="os_compute_api:os-pause-server:pause", driver_call="pause",
                   event="pause_instance"),
        Transition("unpause", (PAUSED,), UNPAUSING, ACTIVE, api_key="unpause",
                   policy="os_compute_api:os-pause-server:unpause", driver_call="unpause",
                   event="unpause_instance"),
        Transition("suspend", (ACTIVE,), SUSPENDING, SUSPENDED, api_key="suspend",
                   policy="os_compute_api:os-suspend-server:suspend", driver_call="suspend",
                   event="suspend_instance"),
        Transition("resume", (SUSPENDED,), RESUMING, ACTIVE, api_key="resume",
                   policy="os_compute_api:os-suspend-server:resume", driver_call="resume",
                   event="resume_instance"),
        # shelve: stop, snapshot into the image service, then (shelved_offload_time 0)
        # offload; the image id travels in the params.
        Transition("shelve", (ACTIVE, STOPPED, PAUSED, SUSPENDED), SHELVING, SHELVED,
                   steps=(SHELVING_IMAGE_PENDING_UPLOAD, SHELVING_IMAGE_UPLOADING),
                   api_key="shelve", policy="os_compute_api:os-shelve:shelve",
                   driver_call="snapshot", event="shelve_instance",
                   compute_method="shelve_instance", on_restart="restarted_in_snapshot"),
        # offload: the guest and its claim leave the host.
        Transition("shelveOffload", (SHELVED,), SHELVING_OFFLOADING, SHELVED_OFFLOADED,
                   api_key="shelveOffload", policy="os_compute_api:os-shelve:shelve_offload",
                   driver_call="destroy", event="shelve_offload_instance",
                   compute_method="shelve_offload_instance",
                   on_restart="restarted_in_offload"),
        # unshelve: power on where it is shelved, or schedule again and spawn from the
        # shelved image when offloaded.
        Transition("unshelve", (SHELVED, SHELVED_OFFLOADED), UNSHELVING, ACTIVE,
                   steps=(SPAWNING,), api_key="unshelve",
                   policy="os_compute_api:os-shelve:unshelve", driver_call="spawn",
                   event="unshelve_instance", compute_method="unshelve_instance",
                   on_restart="restarted_in_unshelve"),
        Transition("rescue", (ACTIVE, STOPPED, ERROR), RESCUING, RESCUED, api_key="rescue",
                   policy="os_compute_api:os-rescue", driver_call="rescue",
                   event="rescue_instance", compute_method="rescue_instance",
                   on_restart="restarted_in_rescue"),
        Transition("unrescue", (RESCUED,), UNRESCUING, ACTIVE, api_key="unrescue",
                   policy="os_compute_api:os-unrescue", driver_call="unrescue",
                   event="unrescue_instance", on_restart="restarted_in_rescue"),
        Transition("createImage", _SNAPSHOT_FROM, IMAGE_SNAPSHOT, None,
                   steps=(IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING), api_key="createImage",
                   policy="os_compute_api:servers:create_image", driver_call="snapshot",
                   event="snapshot_instance", compute_method="snapshot_instance",
                   on_restart="restarted_in_snapshot",
                   # Nova: a lock guards against changes and deletes, not snapshots
                   refused_when_locked=False),
        Transition("createBackup", _SNAPSHOT_FROM, IMAGE_BACKUP, None,
                   steps=(IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING), api_key="createBackup",
                   policy="os_compute_api:os-create-backup", driver_call="snapshot",
                   event="backup_instance", compute_method="snapshot_instance",
                   on_restart="restarted_in_snapshot",
                   # Nova: a lock guards against changes and deletes, not snapshots
                   refused_when_locked=False),
        # No task_state, as in Nova: an NMI does not keep the server busy.
        Transition("trigger_crash_dump", (ACTIVE, PAUSED, RESCUED, ERROR), None, None,
                   api_key="trigger_crash_dump",
                   policy="os_compute_api:servers:trigger_crash_dump",
                   driver_call="trigger_crash_dump", event="trigger_crash_dump"),
        # A synchronous call: the caller learns whether the guest took the password.
        Transition("changePassword", (ACTIVE,), UPDATING_PASSWORD, None,
                   api_key="changePassword", policy="os_compute_api:os-admin-password",
                   driver_call="set_admin_password", event="set_admin_password"),
        # -- instant: the database alone, in any state ---------------------------------
        Transition("lock", ALL_VM_STATES, None, None, ANY_TASK_STATE, api_key="lock",
                   policy="os_compute_api:os-lock-server:lock", event="lock",
                   refused_when_locked=False),
        Transition("unlock", ALL_VM_STATES, None, None, ANY_TASK_STATE, api_key="unlock",
                   policy="os_compute_api:os-lock-server:unlock", event="unlock",
                   refused_when_locked=False),
        # the vm_state comes from the body (active or error); the task_state is cleared
        Transition("reset_state", ALL_VM_STATES, None, None, ANY_TASK_STATE,
                   api_key="os-resetState",
                   policy="os_compute_api:os-admin-actions:reset_state", event="reset_state",
                   record="resetState", refused_when_locked=False),
        # -- rebuild: same host, same claim; a stopped server stays stopped ------------
        Transition("rebuild", (ACTIVE, STOPPED, ERROR), REBUILDING, ACTIVE,
                   api_key="rebuild", policy="os_compute_api:servers:rebuild",
                   driver_call="rebuild", event="rebuild_instance",
                   steps=(REBUILD_BLOCK_DEVICE_MAPPING, REBUILD_SPAWNING),
                   on_restart="restarted_in_rebuild"),
        _RESIZE_TRANSITION,
        # cold migration: a resize to the same flavor on another host, as in Nova (the
        # same task_states and steps; VERIFY_RESIZE, then confirmResize / revertResize)
        dataclasses.replace(_RESIZE_TRANSITION, name="migrate", api_key="migrate",
                            policy="os_compute_api:os-migrate-server:migrate"),
        # ends ACTIVE, or STOPPED when the resized guest is off
        Transition("confirm_resize", (RESIZED,), RESIZE_CONFIRMING, ACTIVE,
                   api_key="confirmResize", policy="os_compute_api:servers:confirm_resize",
                   driver_call="confirm_migration", event="confirm_resize",
                   record="confirmResize", on_restart="restarted_in_move"),
        # ends in the vm_state the server had before the resize
        Transition("revert_resize", (RESIZED,), RESIZE_REVERTING, ACTIVE,
                   api_key="revertResize", policy="os_compute_api:servers:revert_resize",
                   driver_call="cleanup_migration_destination", event="revert_resize",
                   record="revertResize", on_restart="restarted_in_move",
                   step_calls=(Step(RESIZE_REVERTING, "source", "finish_revert_migration",
                                    "finish_revert_resize"),)),
        # -- live migration (admin): the guest keeps running while it moves; the
        #    server stays ACTIVE or PAUSED, on its source until the destination takes
        #    it over (nova_lite.compute.live_migration) --------------------------------
        Transition("live_migration", (ACTIVE, PAUSED), MIGRATING, None,
                   policy="os_compute_api:os-migrate-server:migrate_live",
                   driver_call="live_migration", event="live_migration",
                   record="live-migration", verb="os-migrateLive",
                   on_restart="restarted_in_move"),
        # -- evacuate (admin, source compute down): rebuilt on another host; ends in the
        #    vm_state the server had (STOPPED from 2.95: the params say so) ------------
        Transition("evacuate", (ACTIVE, STOPPED, ERROR), REBUILDING, ACTIVE,
                   policy="os_compute_api:os-evacuate", driver_call="spawn",
                   event="rebuild_instance", record="evacuate",
                   on_restart="restarted_in_move"),
        # -- deferred delete ([DEFAULT] reclaim_instance_interval > 0) ----------------
        Transition("soft_delete", tuple(v for v in ALL_VM_STATES if v != SOFT_DELETED),
                   SOFT_DELETING, SOFT_DELETED, policy="os_compute_api:servers:delete",
                   driver_call="power_off", driver_args=(_SHUTDOWN_TIMEOUT,),
                   event="soft_delete_instance", record="delete"),
        Transition("restore", (SOFT_DELETED,), RESTORING, ACTIVE, api_key="restore",
                   policy="os_compute_api:os-deferred-delete:restore", driver_call="power_on",
                   event="restore_instance", record="restore"),
        Transition("force_delete", ALL_VM_STATES, DELETING, DELETED, api_key="forceDelete",
                   policy="os_compute_api:os-deferred-delete:force", driver_call="destroy",
                   event="terminate_instance", verb="forceDelete", record="delete"),
    )
}

# POST /servers/{id}/action keys that start a transition directly.
BY_API_KEY: dict[str, Transition] = {t.api_key: t for t in TRANSITIONS.values() if t.api_key}

# What the API shows as "status" for a (vm_state, task_state) pair.
_REBUILD = {t: "REBUILD" for t in REBUILD_TASK_STATES}
_RESIZE = {t: "RESIZE" for t in RESIZE_TASK_STATES}
_STATUS: dict[str, dict[Optional[str], str]] = {
    ACTIVE: {"default": "ACTIVE", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT",
             UPDATING_PASSWORD: "PASSWORD", MIGRATING: "MIGRATING", **_REBUILD, **_RESIZE},
    BUILDING: {"default": "BUILD"},
    STOPPED: {"default": "SHUTOFF", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT",
              **_REBUILD, **_RESIZE},
    PAUSED: {"default": "PAUSED", REBOOTING_HARD: "HARD_REBOOT", MIGRATING: "MIGRATING"},
    SUSPENDED: {"default": "SUSPENDED", REBOOTING_HARD: "HARD_REBOOT"},
    ERROR: {"default": "ERROR", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT",
            **_REBUILD},
    DELETED: {"default": "DELETED"},
    RESCUED: {"default": "RESCUE"},
    SHELVED: {"default": "SHELVED"},
    SHELVED_OFFLOADED: {"default": "SHELVED_OFFLOADED"},
    RESIZED: {"default": "VERIFY_RESIZE", RESIZE_REVERTING: "REVERT_RESIZE"},
    SOFT_DELETED: {"default": "SOFT_DELETED"},
}

STATUS_TO_VM_STATES: dict[str, list[str]] = {
    "ACTIVE": [ACTIVE], "BUILD": [BUILDING], "SHUTOFF": [STOPPED], "PAUSED": [PAUSED],
    "SUSPENDED": [SUSPENDED], "ERROR": [ERROR], "DELETED": [DELETED],
    "REBOOT": [ACTIVE, STOPPED, ERROR], "HARD_REBOOT": [ACTIVE, STOPPED, PAUSED, SUSPENDED,
                                                       ERROR],
    "PASSWORD": [ACTIVE], "RESCUE": [RESCUED], "SHELVED": [SHELVED],
    "SHELVED_OFFLOADED": [SHELVED_OFFLOADED],
    "REBUILD": [ACTIVE, STOPPED, ERROR], "RESIZE": [ACTIVE, STOPPED],
    "VERIFY_RESIZE": [RESIZED], "REVERT_RESIZE": [RESIZED], "SOFT_DELETED": [SOFT_DELETED],
    "MIGRATING": [ACTIVE, PAUSED],
}
# Statuses that depend on the task_state too: a list filter on them must look at both.
TASK_STATUSES = frozenset(status for task_map in _STATUS.values()
                          for key, status in task_map.items() if key != "default")


def api_status(vm_state: Optional[str], task_state: Optional[str]) -> str:
    task_map = _STATUS.get(vm_state or "", {"default": "UNKNOWN"})
    return task_map.get(task_state, task_map["default"])


def get(name: str) -> Transition:
    return TRANSITIONS[name]


def interrupted(vm_state: Optional[str], task_state: Optional[str]) -> Optional[Transition]:
    """The operation an instance in (vm_state, task_state) is in the middle of, if any."""
    if task_state is None:
        return None
    for t in TRANSITIONS.values():
        if vm_state in t.from_vm_states and task_state in (t.task_state, *t.steps):
            return t
    return None


def check(name: str, uuid: str, vm_state: Optional[str], task_state: Optional[str]) -> Transition:
    """Raise InstanceInvalidState (409) unless ``name`` may start from this state."""
    t = TRANSITIONS[name]
    if t.from_task_states is ANY_TASK_STATE and vm_state in t.from_vm_states:
        return t
    if vm_state not in t.from_vm_states:
        raise exception.InstanceInvalidState(
            action=t.conflict_verb, instance_uuid=uuid, attr="vm_state", state=vm_state)
    if task_state not in t.from_task_states:
        raise exception.InstanceInvalidState(
            action=t.conflict_verb, instance_uuid=uuid, attr="task_state", state=task_state)
    return t


def check_allowed(name: str, inst: Any, ctx: Any) -> Transition:
    """The gate of every action a user starts: Nova's lock rule first (a locked server
    refuses anyone but an admin: InstanceIsLocked, 409), then check()'s state rule."""
    t = TRANSITIONS[name]
    if t.refused_when_locked and inst.get("locked") and not ctx.is_admin:
        raise exception.InstanceIsLocked(instance_uuid=inst.uuid)
    return check(name, inst.uuid, inst.vm_state, inst.task_state)


def check_idle_on_host(action: str, inst: Any, ctx: Any, vm_states: tuple) -> None:
    """The gate of the calls that hold no task_state while the compute host works
    (volume and interface attach/detach): the lock rule, then an idle server in one of
    ``vm_states`` that has a host; InstanceIsLocked / InstanceInvalidState (409)."""
    if inst.get("locked") and not ctx.is_admin:
        raise exception.InstanceIsLocked(instance_uuid=inst.uuid)
    if inst.vm_state not in vm_states or inst.task_state is not None or not inst.host:
        attr, state = (("task_state", inst.task_state) if inst.task_state is not None
                       else ("vm_state", inst.vm_state))
        raise exception.InstanceInvalidState(action=action, instance_uuid=inst.uuid,
                                             attr=attr, state=state)


def step(name: str, task_state: str) -> Step:
    """Where and how the step of ``name`` that holds ``task_state`` runs."""
    for st in TRANSITIONS[name].step_calls:
        if st.task_state == task_state:
            return st
    raise KeyError((name, task_state))
