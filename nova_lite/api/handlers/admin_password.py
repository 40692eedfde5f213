"""changePassword: set the guest's administrator password, waiting for the answer.

As in Nova, a guest that cannot take it (no guest agent) makes it a 409.
"""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import admin_password as schema
from nova_lite.compute import states


def change_password(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.CHANGE_PASSWORD, body)
    inst = get_server(req, id)
    t = states.get("changePassword")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id,
                                         "user_id": inst.user_id})
    req.conductor.server_set_password(req.ctx, id, body["changePassword"]["adminPass"])
    return wsgi.Reply(202)
