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
class Transition:
    name: str  # the action name, as Nova's 409 message and instance actions spell it
    from_vm_states: tuple[str, ...]
    task_state: Optional[str]  # held while the operation runs
    to_vm_state: Optional[str]  # None: the vm_state is left as it is
    # task_states the operation may interrupt (None = only when idle)
    from_task_states: tuple[Optional[str], ...] = (None,)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition("build", (BUILDING,), SPAWNING, ACTIVE, (SCHEDULING, None, NETWORKING)),
        Transition("delete", ALL_VM_STATES, DELETING, DELETED,
                   (None, SCHEDULING, NETWORKING, SPAWNING, REBOOTING, REBOOTING_HARD,
                    POWERING_OFF, POWERING_ON, PAUSING, UNPAUSING, SUSPENDING, RESUMING,
                    DELETING)),
        # A soft (ACPI) reboot needs a running guest; Nova allows it from ACTIVE only.
        Transition("reboot", (ACTIVE,), REBOOTING, ACTIVE),
        Transition("reboot_hard", (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR),
                   REBOOTING_HARD, ACTIVE, (None, REBOOTING)),
        Transition("stop", (ACTIVE, ERROR), POWERING_OFF, STOPPED),
        Transition("start", (STOPPED,), POWERING_ON, ACTIVE),
        Transition("pause", (ACTIVE,), PAUSING, PAUSED),
        Transition("unpause", (PAUSED,), UNPAUSING, ACTIVE),
        Transition("suspend", (ACTIVE,), SUSPENDING, SUSPENDED),
        Transition("resume", (SUSPENDED,), RESUMING, ACTIVE),
    )
}

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
