"""POST /servers/{id}/action os-resetState (admin): set vm_state to active or error and
clear the task_state, as an operator does for a server stuck mid-operation."""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import server_actions as schema
from nova_lite.compute import states


def reset_state(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.RESET_STATE, body)
    inst = get_server(req, id)
    t = states.get("reset_state")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    req.conductor.server_action(req.ctx, id, t.name,
                                {"state": body["os-resetState"]["state"]})
    return wsgi.Reply(202)


HANDLERS = {"os-resetState": reset_state}
