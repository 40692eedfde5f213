"""POST /servers/{id}/action resize and confirmResize (revertResize is a plain action).

The conductor answers Nova's 400s (flavor not found, same flavor, smaller disk), 403
over quota, 409 for a locked server or a wrong state; the resize then runs in the
background (status RESIZE, then VERIFY_RESIZE).
"""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import server_actions as schema
from nova_lite.compute import states


def _ref_id(ref: object) -> str:
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


def resize(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.RESIZE, body)
    inst = get_server(req, id)
    t = states.get("resize")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    req.conductor.server_action(req.ctx, id, t.name,
                                {"flavor_id": _ref_id(body["resize"]["flavorRef"])})
    return wsgi.Reply(202)


def confirm_resize(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.CONFIRM_RESIZE, body)
    inst = get_server(req, id)
    t = states.get("confirm_resize")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    req.conductor.server_action(req.ctx, id, t.name, {})
    return wsgi.Reply(204)


HANDLERS = {"resize": resize, "confirmResize": confirm_resize}
