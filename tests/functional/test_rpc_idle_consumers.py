"""RPC consumers on the real RabbitMQ: once a call is answered, the server's listener and
the caller's reply waiter wait quietly for the next message instead of waking every few
milliseconds to find none (nova_lite.rpc.IDLE_WAIT_FIRST)."""

from __future__ import annotations

import time
import uuid
from typing import Iterator

import oslo_messaging as messaging
import pytest
from oslo_messaging._drivers import impl_rabbit

from nova_lite import context, rpc
from nova_lite.conf import CONF
from tests.functional import harness
from tests.functional.conftest import require_services

WINDOW = 0.5  # seconds of quiet watched after a call


class Echo:
    target = messaging.Target(version="1.0")

    def echo(self, ctx: context.RequestContext, value: int) -> int:
        return value


@pytest.fixture
def wakeups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """The times at which any consumer of this process starts waiting for messages."""
    require_services()
    seen: list[float] = []
    real = impl_rabbit.Connection.consume

    def consume(self: impl_rabbit.Connection, timeout: float | None = None) -> None:
        seen.append(time.monotonic())
        return real(self, timeout=timeout)

    monkeypatch.setattr(impl_rabbit.Connection, "consume", consume)
    yield seen


@pytest.fixture
def client() -> Iterator[object]:
    vhost = f"nlt_rpc_{uuid.uuid4().hex[:8]}"
    harness._rabbitmqctl("add_vhost", vhost)
    harness._rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    rpc.cleanup()
    CONF.set_override("transport_url", f"rabbit://guest:guest@{harness.RABBIT}/{vhost}")
    server = None
    try:
        rpc.init(CONF)
        server = rpc.get_server("idle-consumers", "h1", [Echo()])
        server.start()
        yield rpc.get_client("idle-consumers", "1.0", timeout=30)
    finally:
        if server is not None:
            server.stop()
            server.wait()
        rpc.cleanup()
        CONF.clear_override("transport_url")
        harness._rabbitmqctl("delete_vhost", vhost)


def test_consumers_stay_quiet_between_calls(wakeups: list[float], client: object) -> None:
    ctx = context.get_admin_context()
    for value in range(3):  # the reply queue and its waiter exist after the first call
        assert client.prepare().call(ctx, "echo", value=value) == value
    answered = time.monotonic()
    time.sleep(WINDOW)
    quiet = [t for t in wakeups if answered < t <= answered + WINDOW]
    # Two consumer threads. Waiting 0.1 s, then 0.2 s, each wakes at most twice in the
    # window; from 1 ms doubling (oslo.messaging's own first wait) each wakes 8-9 times.
    assert len(quiet) <= 5, f"{len(quiet)} empty wake-ups in {WINDOW} s"
    # ... and a message still wakes its consumer at once: the next call is answered.
    assert client.prepare().call(ctx, "echo", value=7) == 7
