"""The operator's moves of a server: POST /servers/{id}/action os-migrateLive and
evacuate, POST /servers/{id}/migrations/{id}/action force_complete (2.22) and
DELETE /servers/{id}/migrations/{id} (abort, 2.24).

Both actions answer at once (202; evacuate 200 as Nova's) and run in the background:
the migration record (GET /servers/{id}/migrations) follows them. Errors Nova answers
synchronously: a host that does not exist (live migration 400, evacuate 404), the
server's own host (400), an evacuation whose source compute service is still up (400),
a state that does not allow it (409).
"""

from __future__ import annotations

from typing import Any

from oslo_utils import strutils

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.rescue import _password
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import server_moves as schema
from nova_lite.compute import states

FORCE_COMPLETE_RULE = "os_compute_api:servers:migrations:force_complete"
ABORT_RULE = "os_compute_api:servers:migrations:delete"


def _bool(value: Any) -> bool:
    return strutils.bool_from_string(value, strict=True)


def live_migrate(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.live_migrate(req.ver), body)
    inst = get_server(req, id)
    t = states.get("live_migration")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    value = body["os-migrateLive"]
    block = value["block_migration"]
    params = {"host": value.get("host"),
              "block_migration": "auto" if block == "auto" else _bool(block),
              "force": _bool(value.get("force", False))}
    try:
        req.conductor.server_action(req.ctx, id, t.name, params)
    except exception.ComputeHostNotFound as err:
        raise wsgi.bad_request(err.format_message()) from err
    return wsgi.Reply(202)


def evacuate(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.evacuate(req.ver), body)
    inst = get_server(req, id)
    t = states.get("evacuate")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    value = body["evacuate"]
    host = value.get("host")
    shared = req.ver < (2, 14) and _bool(value["onSharedStorage"])
    if shared and "adminPass" in value:
        raise wsgi.bad_request("admin password can't be changed on existing disk")
    if host is not None and host == inst.host:
        raise wsgi.bad_request("The target host can't be the same one.")
    password = value.get("adminPass") or (None if shared else _password())
    params = {"host": host, "force": _bool(value.get("force", False)),
              "admin_password": password,
              # 2.95: the server is stopped on its new host, whatever it was before
              "target_state": states.STOPPED if req.ver >= (2, 95) else None}
    req.conductor.server_action(req.ctx, id, t.name, params)
    if req.ver >= (2, 14):
        return wsgi.Reply(200)
    return wsgi.Reply(200, {"adminPass": password} if password else {})


def _migration_id(migration_id: str) -> int:
    try:
        return int(migration_id)
    except ValueError:
        raise wsgi.bad_request(f"Invalid migration id: {migration_id}") from None


def force_complete(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    if req.ver < (2, 22):
        raise wsgi.not_found()
    body = req.json_body()
    validation.validate(schema.FORCE_COMPLETE, body)
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, FORCE_COMPLETE_RULE, {"project_id": inst.project_id})
    req.conductor.live_migration_force_complete(req.ctx, inst.uuid, _migration_id(id))
    return wsgi.Reply(202)


def abort(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    if req.ver < (2, 24):
        raise wsgi.not_found()
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, ABORT_RULE, {"project_id": inst.project_id})
    req.conductor.live_migration_abort(req.ctx, inst.uuid, _migration_id(id),
                                       queued_too=req.ver >= (2, 65))
    return wsgi.Reply(202)


HANDLERS = {"os-migrateLive": live_migrate, "evacuate": evacuate}
