"""POST /servers/{id}/action migrate (admin): cold migration, from 2.56 optionally to a
named host. Nova's 400s: the host is unknown, is the server's own, or no host can take
the server (the scheduler's reason); 409 for a wrong state. The server then moves like a
resize to its own flavor (status RESIZE, then VERIFY_RESIZE: confirm or revert)."""

from __future__ import annotations

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import migrations as schema
from nova_lite.compute import states

HOST_RULE = "os_compute_api:os-migrate-server:migrate:host"


def migrate(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.MIGRATE_V256 if req.ver >= (2, 56) else schema.MIGRATE_V21,
                        body)
    host = (body["migrate"] or {}).get("host")
    inst = get_server(req, id)
    t = states.get("migrate")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    if host is not None:
        policy.authorize(req.ctx, HOST_RULE, {"project_id": inst.project_id})
    try:
        req.conductor.server_action(req.ctx, id, t.name, {"host": host})
    except (exception.ComputeHostNotFound, exception.NoValidHost) as err:
        raise wsgi.bad_request(err.format_message()) from None
    return wsgi.Reply(202)


HANDLERS = {"migrate": migrate}
