"""/servers/{server_id}/os-server-password: the password the guest posted to the
metadata service (encrypted with the instance's public key), shown and cleared."""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import wsgi
from nova_lite.api.handlers.servers import get_server

RULE = "os_compute_api:os-server-password:%s"


def show(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % "show", {"project_id": inst.project_id})
    data = req.conductor.instance_metadata(req.ctx, server_id)
    return wsgi.Reply(200, {"password": data.get("password") or ""})


def clear(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % "clear", {"project_id": inst.project_id})
    req.conductor.instance_password_set(req.ctx, server_id, "", only_if_empty=False)
    return wsgi.Reply(204)
