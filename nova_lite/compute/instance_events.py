"""External events a compute host waits for (Neutron's network-vif-plugged, Cinder's
volume-reimaged, ...).

A driver declares the events it expects before it acts (a guest started paused), then
waits for them; os-server-external-events delivers them here through the conductor.
Neutron sends duplicates, events for ports nobody waits on and events after a waiter
gave up: all of those are simply dropped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any, Iterator, Optional

from nova_lite.virt import driver as virt_driver

LOG = logging.getLogger(__name__)

Key = tuple[str, str]  # (event name, tag)


class EventTimedOut(virt_driver.DriverError):
    """Events awaited with ``what`` did not all arrive in time."""


class _Waiter:
    def __init__(self, keys: list[Key]) -> None:
        self.pending = set(keys)
        self.failed: list[Key] = []
        self.cond = threading.Condition()


class InstanceEvents(virt_driver.VirtAPI):
    """Per-instance waiters; ``deliver`` is called with each event that arrives."""

    def __init__(self, timeout_is_fatal: bool = True) -> None:
        self.timeout_is_fatal = timeout_is_fatal
        self._lock = threading.Lock()
        self._waiters: dict[str, list[_Waiter]] = {}
        self.seen: list[tuple[float, str, str, str, str]] = []  # for logs and tests

    def deliver(self, instance_uuid: str, name: str, tag: str, status: str) -> bool:
        """True when somebody was waiting for this event."""
        self.seen.append((time.monotonic(), instance_uuid, name, tag or "", status))
        del self.seen[:-200]
        key = (name, tag or "")
        with self._lock:
            waiters = list(self._waiters.get(instance_uuid, ()))
        for waiter in waiters:
            with waiter.cond:
                if key in waiter.pending:
                    waiter.pending.discard(key)
                    if status == "failed":
                        waiter.failed.append(key)
                    waiter.cond.notify_all()
                    return True
        LOG.debug("instance %s: event %s (%s) %s with nobody waiting", instance_uuid, name,
                  tag, status)
        return False

    @contextlib.contextmanager
    def wait_for_instance_event(self, instance_uuid: str, events: list[Key],
                                timeout: float, what: Optional[str] = None
                                ) -> Iterator[None]:
        """VirtAPI's; ``what`` (the operation waiting, e.g. "re-imaging volume X")
        begins its errors instead of Neutron's wording, and then a timeout is always
        fatal."""
        if not events or timeout <= 0:
            yield
            return
        waiter = _Waiter([(n, t or "") for n, t in events])
        with self._lock:
            self._waiters.setdefault(instance_uuid, []).append(waiter)
        try:
            yield
            started = time.monotonic()
            deadline = started + timeout
            with waiter.cond:
                while waiter.pending and not waiter.failed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    waiter.cond.wait(left)
            failed = ", ".join(f"{n} {t} failed" for n, t in waiter.failed)
            if waiter.failed and what:
                raise virt_driver.DriverError(f"{what}: {failed}")
            if waiter.failed:
                raise virt_driver.DriverError(
                    "Virtual Interface creation failed: Neutron reported " + failed)
            if waiter.pending:
                missing = ", ".join(f"{n} for {t}" for n, t in sorted(waiter.pending))
                if what:
                    raise EventTimedOut(f"{what}: no {missing} within {timeout:g} s")
                if self.timeout_is_fatal:
                    raise virt_driver.DriverError(
                        f"Virtual Interface creation failed: no {missing} within "
                        f"{timeout:g} s (vif_plugging_timeout)")
                LOG.warning("instance %s: no %s within %g s; vif_plugging_is_fatal is "
                            "False, so the guest starts anyway", instance_uuid, missing,
                            timeout)
            else:
                LOG.info("instance %s: %d event(s) arrived after %.2f s", instance_uuid,
                         len(events), time.monotonic() - started)
        finally:
            with self._lock:
                left_waiters = self._waiters.get(instance_uuid, [])
                if waiter in left_waiters:
                    left_waiters.remove(waiter)
                if not left_waiters:
                    self._waiters.pop(instance_uuid, None)

    def waiting(self, instance_uuid: str) -> Optional[set[Key]]:
        with self._lock:
            waiters = self._waiters.get(instance_uuid)
            if not waiters:
                return None
            return set().union(*(w.pending for w in waiters))

    def forget(self, instance_uuid: str) -> Any:
        """Wake everybody waiting for an instance being deleted (they time out at once)."""
        with self._lock:
            waiters = self._waiters.pop(instance_uuid, [])
        for waiter in waiters:
            with waiter.cond:
                waiter.failed.append(("instance-deleted", ""))
                waiter.cond.notify_all()
