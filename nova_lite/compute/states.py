"""The server state machine, declared in one place.

A server has a ``vm_state`` (stable condition), a ``task_state`` (an operation in
progress, or None) and a ``power_state`` (what the hypervisor reports). Every operation
is a named Transition: the vm_states it may start from, the task_state it holds while it
runs, and the vm_state it ends in. The conductor asks ``check()`` whether an operation
may start (409 otherwise, with Nova's message); the compute manager looks the transition
up with ``get()`` to finish it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

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

ALL_VM_STATES = (ACTIVE, BUILDING, PAUSED, SUSPENDED, STOPPED, ERROR, RESCUED, SHELVED,
                 SHELVED_OFFLOADED)


@dataclasses.dataclass(frozen=True)
class ConfValue:
    """A driver argument read from the compute host's configuration when the call is made."""

    group: str
    name: str


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

    @property
    def action_record(self) -> str:
        return self.record or self.name


_SHUTDOWN_TIMEOUT = ConfValue("compute", "shutdown_timeout")
# Where a snapshot may be taken from (Nova's createImage, createBackup).
_SNAPSHOT_FROM = (ACTIVE, STOPPED, PAUSED, SUSPENDED)

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("build", (BUILDING,), SPAWNING, ACTIVE, (SCHEDULING, None, NETWORKING),
                   driver_call="spawn", event="build_and_run_instance"),
        Transition("delete", ALL_VM_STATES, DELETING, DELETED,
                   (None, SCHEDULING, NETWORKING, SPAWNING, REBOOTING, REBOOTING_HARD,
                    POWERING_OFF, POWERING_ON, PAUSING, UNPAUSING, SUSPENDING, RESUMING,
                    DELETING, SHELVING, SHELVING_IMAGE_PENDING_UPLOAD,
                    SHELVING_IMAGE_UPLOADING, SHELVING_OFFLOADING, UNSHELVING, RESCUING,
                    UNRESCUING, IMAGE_SNAPSHOT, IMAGE_BACKUP, IMAGE_PENDING_UPLOAD,
                    IMAGE_UPLOADING, UPDATING_PASSWORD),
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
                   on_restart="restarted_in_snapshot"),
        Transition("createBackup", _SNAPSHOT_FROM, IMAGE_BACKUP, None,
                   steps=(IMAGE_PENDING_UPLOAD, IMAGE_UPLOADING), api_key="createBackup",
                   policy="os_compute_api:os-create-backup", driver_call="snapshot",
                   event="backup_instance", compute_method="snapshot_instance",
                   on_restart="restarted_in_snapshot"),
        # No task_state, as in Nova: an NMI does not keep the server busy.
        Transition("trigger_crash_dump", (ACTIVE, PAUSED, RESCUED, ERROR), None, None,
                   api_key="trigger_crash_dump",
                   policy="os_compute_api:servers:trigger_crash_dump",
                   driver_call="trigger_crash_dump", event="trigger_crash_dump"),
        # A synchronous call: the caller learns whether the guest took the password.
        Transition("changePassword", (ACTIVE,), UPDATING_PASSWORD, None,
                   api_key="changePassword", policy="os_compute_api:os-admin-password",
                   driver_call="set_admin_password", event="set_admin_password"),
    )
}

# POST /servers/{id}/action keys that start a transition directly.
BY_API_KEY: dict[str, Transition] = {t.api_key: t for t in TRANSITIONS.values() if t.api_key}

# What the API shows as "status" for a (vm_state, task_state) pair.
_STATUS: dict[str, dict[Optional[str], str]] = {
    ACTIVE: {"default": "ACTIVE", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT",
             UPDATING_PASSWORD: "PASSWORD"},
    BUILDING: {"default": "BUILD"},
    STOPPED: {"default": "SHUTOFF", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT"},
    PAUSED: {"default": "PAUSED", REBOOTING_HARD: "HARD_REBOOT"},
    SUSPENDED: {"default": "SUSPENDED", REBOOTING_HARD: "HARD_REBOOT"},
    ERROR: {"default": "ERROR", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT"},
    DELETED: {"default": "DELETED"},
    RESCUED: {"default": "RESCUE"},
    SHELVED: {"default": "SHELVED"},
    SHELVED_OFFLOADED: {"default": "SHELVED_OFFLOADED"},
}

STATUS_TO_VM_STATES: dict[str, list[str]] = {
    "ACTIVE": [ACTIVE], "BUILD": [BUILDING], "SHUTOFF": [STOPPED], "PAUSED": [PAUSED],
    "SUSPENDED": [SUSPENDED], "ERROR": [ERROR], "DELETED": [DELETED],
    "REBOOT": [ACTIVE, STOPPED, ERROR], "HARD_REBOOT": [ACTIVE, STOPPED, PAUSED, SUSPENDED,
                                                       ERROR],
    "PASSWORD": [ACTIVE], "RESCUE": [RESCUED], "SHELVED": [SHELVED],
    "SHELVED_OFFLOADED": [SHELVED_OFFLOADED],
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
    if vm_state not in t.from_vm_states:
        raise exception.InstanceInvalidState(
            action=t.action_record, instance_uuid=uuid, attr="vm_state", state=vm_state)
    if task_state not in t.from_task_states:
        raise exception.InstanceInvalidState(
            action=t.action_record, instance_uuid=uuid, attr="task_state",
            state=task_state)
    return t
