"""Waiting for external events: arrival, duplicates, strays, timeouts, failure."""

from __future__ import annotations

import threading
import time

import pytest

from nova_lite.compute.instance_events import InstanceEvents
from nova_lite.virt.driver import DriverError

U = "6c1f0e2a-4b3d-4e5f-8a9b-0c1d2e3f4a5b"
PLUGGED = "network-vif-plugged"


def _later(delay: float, fn, *args) -> None:
    threading.Timer(delay, fn, args).start()


def test_waits_until_every_event_arrived_and_drops_duplicates_and_strays():
    events = InstanceEvents()
    assert not events.deliver(U, PLUGGED, "p1", "completed")  # nobody waits yet
    started = time.monotonic()
    with events.wait_for_instance_event(U, [(PLUGGED, "p1"), (PLUGGED, "p2")], 10):
        assert events.waiting(U) == {(PLUGGED, "p1"), (PLUGGED, "p2")}
        _later(0.1, events.deliver, U, "network-vif-unplugged", "p1", "completed")
        _later(0.2, events.deliver, U, PLUGGED, "p1", "completed")
        _later(0.25, events.deliver, U, PLUGGED, "p1", "completed")  # Neutron sends twice
        _later(0.3, events.deliver, U, PLUGGED, "p2", "completed")
    assert 0.25 < time.monotonic() - started < 5
    assert events.waiting(U) is None
    assert not events.deliver(U, PLUGGED, "p2", "completed")  # late duplicate: dropped


def test_timeout_is_fatal_or_not():
    with pytest.raises(DriverError, match="network-vif-plugged for p1 within 0.2 s"):
        with InstanceEvents(timeout_is_fatal=True).wait_for_instance_event(
                U, [(PLUGGED, "p1")], 0.2):
            pass
    with InstanceEvents(timeout_is_fatal=False).wait_for_instance_event(
            U, [(PLUGGED, "p1")], 0.2):
        pass


def test_failed_event_and_deleted_instance_end_the_wait_at_once():
    events = InstanceEvents()
    started = time.monotonic()
    with pytest.raises(DriverError, match="p1 failed"):
        with events.wait_for_instance_event(U, [(PLUGGED, "p1")], 30):
            _later(0.1, events.deliver, U, PLUGGED, "p1", "failed")
    with pytest.raises(DriverError):
        with events.wait_for_instance_event(U, [(PLUGGED, "p1")], 30):
            _later(0.1, events.forget, U)
    assert time.monotonic() - started < 5


def test_zero_timeout_does_not_wait():
    with InstanceEvents().wait_for_instance_event(U, [(PLUGGED, "p1")], 0):
        pass


def test_a_batch_delivers_awaited_events_before_handling_the_rest():
    """Neutron batches network-changed with network-vif-plugged; handling the first needs
    the instance's lock, which the build waiting for the second holds."""
    import contextlib

    from nova_lite.compute.networking import NetworkingMixin

    class Compute(NetworkingMixin):
        def __init__(self) -> None:
            self.events = InstanceEvents()
            self.lock = threading.Lock()
            self.refreshed: list[str] = []

        @contextlib.contextmanager
        def _lock(self, uuid):
            with self.lock:
                yield

        def _refresh_network_info(self, ctx, uuid):
            with self._lock(uuid):
                self.refreshed.append(uuid)

    compute = Compute()
    batch = [{"name": "network-changed", "server_uuid": U, "tag": "p1"},
             {"name": PLUGGED, "server_uuid": U, "tag": "p1", "status": "completed"}]
    started = time.monotonic()
    with compute._lock(U):  # the build holds the instance's lock while it waits
        with compute.events.wait_for_instance_event(U, [(PLUGGED, "p1")], 10):
            threading.Thread(target=compute.external_instance_event, args=(None, batch),
                             daemon=True).start()
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while not compute.refreshed and time.monotonic() < deadline:
        time.sleep(0.05)
    assert compute.refreshed == [U]  # handled once the build let go
