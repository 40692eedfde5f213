"""The RequestContext crosses RPC whole and prefixes the log lines of the receiving thread."""

from __future__ import annotations

import logging

from oslo_log import formatters

from nova_lite import config, rpc
from nova_lite.conf import CONF
from nova_lite import context as nl_context


def test_context_survives_the_rpc_serializer():
    ctx = nl_context.RequestContext(
        user_id="u1", project_id="p1", roles=["member", "reader"], user_name="member-a",
        project_name="project-a", auth_token="tok",
        global_request_id="req-6c1f0e2a-4b3d-4e5f-8a9b-0c1d2e3f4a5b")
    serializer = rpc.RequestContextSerializer()
    try:
        got = serializer.deserialize_context(serializer.serialize_context(ctx))
        assert got.to_dict() == ctx.to_dict()
        assert nl_context.get_current() is got  # the receiving thread logs with it
    finally:
        nl_context.clear_current()


def _formatted(record: logging.LogRecord) -> str:
    config.ContextFilter().filter(record)
    return formatters.ContextFormatter(config=CONF, project="nova-lite").format(record)


def test_log_lines_carry_the_context():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    assert _formatted(record).endswith(" x [-] hello")  # no context: the default format
    ctx = nl_context.RequestContext(user_id="u1", project_id="p1", global_request_id="req-g")
    ctx.update_store()
    try:
        line = _formatted(logging.LogRecord("x", logging.INFO, __file__, 1, "hi", None, None))
        ctx.resource_uuid = "6b9f5b6f-7c2d-4c89-8c55-8a2f4b3e9d10"
        server_line = _formatted(logging.LogRecord("x", logging.INFO, __file__, 1, "hi",
                                                   None, None))
    finally:
        nl_context.clear_current()
    # Nova's logging_context_format_string: [global request id, request id, identity]
    assert f"[req-g {ctx.request_id} u1 p1 - - - -] hi" in line
    assert "[instance: 6b9f5b6f-7c2d-4c89-8c55-8a2f4b3e9d10] hi" in server_line


def test_rpc_calls_name_their_server_in_log_lines():
    seen = {}

    class Endpoint:
        def show(self, ctx, instance_uuid):
            seen["uuid"] = ctx.resource_uuid

    ctx = nl_context.RequestContext(user_id="u1", project_id="p1")
    rpc._UserErrorsExpected(Endpoint()).show(ctx, instance_uuid="abc")
    assert seen["uuid"] == "abc"
