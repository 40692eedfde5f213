"""RPC plumbing over the in-process transport: contexts, objects and exceptions cross."""

from __future__ import annotations

import logging

import oslo_messaging as messaging
import pytest

from nova_lite import context, exception, rpc
from nova_lite.conf import CONF
from nova_lite.objects.flavor import Flavor


class Endpoint:
    target = messaging.Target(version="1.0")

    def echo_flavor(self, ctx, flavor):
        assert isinstance(flavor, Flavor)
        return {"user": ctx.user_id, "request_id": ctx.request_id, "name": flavor.name}

    def missing(self, ctx):
        raise exception.FlavorNotFound(flavor_id="nope")

    def broken(self, ctx):
        raise RuntimeError("a real bug")


@pytest.fixture
def server():
    rpc.cleanup()
    CONF.set_override("transport_url", "fake:/")
    rpc.init(CONF)
    srv = rpc.get_server("unit-test", "h1", [Endpoint()])
    srv.start()
    yield rpc.get_client("unit-test", "1.0", timeout=10)
    srv.stop()
    srv.wait()
    rpc.cleanup()
    CONF.clear_override("transport_url")


def _flavor() -> Flavor:
    return Flavor(id=1, flavorid="1", name="m1.tiny", memory_mb=512, vcpus=1, root_gb=1,
                  ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True, disabled=False,
                  description=None, extra_specs={})


def test_context_and_objects_travel(server):
    ctx = context.RequestContext(user_id="alice", project_id="p")
    out = server.prepare().call(ctx, "echo_flavor", flavor=_flavor())
    assert out == {"user": "alice", "request_id": ctx.request_id, "name": "m1.tiny"}


def test_user_errors_come_back_as_themselves_quietly(server, caplog):
    with caplog.at_level(logging.ERROR):
        with pytest.raises(exception.FlavorNotFound) as err:
            server.prepare().call(context.get_admin_context(), "missing")
    assert err.value.code == 404
    assert "nope" in err.value.format_message()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_bugs_are_logged(server, caplog):
    with caplog.at_level(logging.ERROR):
        with pytest.raises(Exception, match="a real bug"):
            server.prepare().call(context.get_admin_context(), "broken")
    assert any("Exception during message handling" in r.getMessage()
               for r in caplog.records)


def test_control_exchange_from_config_is_used():
    """Setting [DEFAULT] control_exchange must not break the transport (it used to raise
    DuplicateOptError once oslo.messaging registered its own copy of the option)."""
    rpc.cleanup()
    CONF.set_override("transport_url", "fake:/")
    CONF.set_override("control_exchange", "nova-lite-test")
    try:
        rpc.init(CONF)
        assert rpc.get_transport().conf.control_exchange == "nova-lite-test"
    finally:
        rpc.cleanup()
        CONF.clear_override("control_exchange")
        CONF.clear_override("transport_url")


def test_default_exchange_is_novas():
    assert CONF.control_exchange == "nova"
