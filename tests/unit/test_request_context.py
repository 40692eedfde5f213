"""The RequestContext crosses RPC whole and prefixes the log lines of the receiving thread."""

from __future__ import annotations

import logging

from nova_lite import config, rpc
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


def test_log_lines_carry_the_context():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    flt = config._ContextFilter()
    flt.filter(record)
    assert (record.request_id, record.global_request_id, record.user_identity) == \
        ("-", "-", "- -")
    ctx = nl_context.RequestContext(user_id="u1", project_id="p1", global_request_id="req-g")
    ctx.update_store()
    try:
        flt.filter(record)
    finally:
        nl_context.clear_current()
    assert (record.request_id, record.global_request_id, record.user_identity) == \
        (ctx.request_id, "req-g", "u1 p1")
