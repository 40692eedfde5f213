"""POST /servers/{id}/action lock and unlock (2.73: locked_reason).

A locked server refuses every action of a non-admin with 409 (the check lives in
nova_lite.compute.states.check_allowed, which every action passes); only an admin may
unlock a server an admin locked (policy ...:unlock:unlock_override).
"""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import server_actions as schema
from nova_lite.compute import states

UNLOCK_OVERRIDE = "os_compute_api:os-lock-server:unlock:unlock_override"


def lock(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.LOCK_V273 if req.ver >= (2, 73) else schema.LOCK, body)
    inst = get_server(req, id)
    t = states.get("lock")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    params = {}
    if req.ver >= (2, 73) and isinstance(body["lock"], dict) and body["lock"].get(
            "locked_reason"):
        params["locked_reason"] = body["lock"]["locked_reason"]
    req.conductor.server_action(req.ctx, id, t.name, params)
    return wsgi.Reply(202)


def unlock(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.UNLOCK, body)
    inst = get_server(req, id)
    t = states.get("unlock")
    target = {"project_id": inst.project_id}
    policy.authorize(req.ctx, t.policy, target)
    expected = "owner" if inst.project_id == req.ctx.project_id else "admin"
    if inst.get("locked_by") and inst.locked_by != expected:
        policy.authorize(req.ctx, UNLOCK_OVERRIDE, target)
    req.conductor.server_action(req.ctx, id, t.name, {})
    return wsgi.Reply(202)


HANDLERS = {"lock": lock, "unlock": unlock}
