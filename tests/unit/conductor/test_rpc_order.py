"""The conductor API keeps a service's writes in the order it sent them: the conductor
handles messages in parallel threads, so nothing a later message depends on may be a cast."""

from __future__ import annotations

import threading
import time

import oslo_messaging as messaging
import pytest

from nova_lite import context, rpc
from nova_lite.conductor import rpcapi
from nova_lite.conf import CONF


class SlowConductor:
    """Records when each message's handling starts and ends; an event takes a while."""

    target = messaging.Target(version=rpcapi.VERSION)

    def __init__(self) -> None:
        self.log: list[str] = []
        self.lock = threading.Lock()

    def _note(self, what: str) -> None:
        with self.lock:
            self.log.append(what)

    def action_event(self, ctx, uuid, event, phase, host, result=None, traceback=None):
        self._note(f"{phase} begins")
        time.sleep(0.3)
        self._note(f"{phase} recorded")

    def instance_update(self, ctx, uuid, values, expected_task_state="__any__", event=None,
                        reply=True):
        self._note("update")


@pytest.fixture
def conductor():
    rpc.cleanup()
    CONF.set_override("transport_url", "fake:/")
    rpc.init(CONF)
    endpoint = SlowConductor()
    srv = rpc.get_server(rpcapi.TOPIC, "c1", [endpoint])
    srv.start()
    yield rpcapi.ConductorAPI(), endpoint
    srv.stop()
    srv.wait()
    rpc.cleanup()
    CONF.clear_override("transport_url")


def test_an_event_start_is_recorded_before_the_update_that_finishes_it(conductor):
    """A compute records an action's start, runs the driver (here: at once) and sends
    the update with the finish; the start must be in before the update is handled, or
    the action shows a second, never-finished event."""
    api, endpoint = conductor
    ctx = context.get_admin_context()
    api.action_event(ctx, "u1", "compute_unpause_instance", "start", "h1")
    api.instance_update(ctx, "u1", {"task_state": None}, expected_task_state="unpausing",
                        event={"event": "compute_unpause_instance", "phase": "finish"},
                        reply=False)
    api.action_event(ctx, "u1", "compute_detach_volume", "finish", "h1", "Success")
    assert endpoint.log == ["start begins", "start recorded", "update",
                            "finish begins", "finish recorded"]
