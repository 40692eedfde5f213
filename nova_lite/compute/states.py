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

ALL_VM_STATES = (ACTIVE, BUILDING, PAUSED, SUSPENDED, STOPPED, ERROR)


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

    @property
    def action_record(self) -> str:
        return self.record or self.name


_SHUTDOWN_TIMEOUT = ConfValue("compute", "shutdown_timeout")

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("build", (BUILDING,), SPAWNING, ACTIVE, (SCHEDULING, None, NETWORKING),
                   driver_call="spawn", event="build_and_run_instance"),
        Transition("delete", ALL_VM_STATES, DELETING, DELETED,
                   (None, SCHEDULING, NETWORKING, SPAWNING, REBOOTING, REBOOTING_HARD,
                    POWERING_OFF, POWERING_ON, PAUSING, UNPAUSING, SUSPENDING, RESUMING,
                    DELETING),
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
    )
}

# POST /servers/{id}/action keys that start a transition directly.
BY_API_KEY: dict[str, Transition] = {t.api_key: t for t in TRANSITIONS.values() if t.api_key}

# What the API shows as "status" for a (vm_state, task_state) pair.
_STATUS: dict[str, dict[Optional[str], str]] = {
    ACTIVE: {"default": "ACTIVE", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT"},
    BUILDING: {"default": "BUILD"},
    STOPPED: {"default": "SHUTOFF", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT"},
    PAUSED: {"default": "PAUSED", REBOOTING_HARD: "HARD_REBOOT"},
    SUSPENDED: {"default": "SUSPENDED", REBOOTING_HARD: "HARD_REBOOT"},
    ERROR: {"default": "ERROR", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT"},
    DELETED: {"default": "DELETED"},
}

STATUS_TO_VM_STATES: dict[str, list[str]] = {
    "ACTIVE": [ACTIVE], "BUILD": [BUILDING], "SHUTOFF": [STOPPED], "PAUSED": [PAUSED],
    "SUSPENDED": [SUSPENDED], "ERROR": [ERROR], "DELETED": [DELETED],
    "REBOOT": [ACTIVE, STOPPED, ERROR], "HARD_REBOOT": [ACTIVE, STOPPED, PAUSED, SUSPENDED,
                                                       ERROR],
}


def api_status(vm_state: Optional[str], task_state: Optional[str]) -> str:
    task_map = _STATUS.get(vm_state or "", {"default": "UNKNOWN"})
    return task_map.get(task_state, task_map["default"])


def get(name: str) -> Transition:
    return TRANSITIONS[name]


def check(name: str, uuid: str, vm_state: Optional[str], task_state: Optional[str]) -> Transition:
    """Raise InstanceInvalidState (409) unless ``name`` may start from this state."""
    t = TRANSITIONS[name]
    if vm_state not in t.from_vm_states:
        raise exception.InstanceInvalidState(
            action=t.name.split("_")[0], instance_uuid=uuid, attr="vm_state", state=vm_state)
    if task_state not in t.from_task_states:
        raise exception.InstanceInvalidState(
            action=t.name.split("_")[0], instance_uuid=uuid, attr="task_state",
            state=task_state)
    return t
