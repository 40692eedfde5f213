"""/servers/{server_id}/tags (2.26): a server's tags (6 endpoints)."""

from __future__ import annotations

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import server_tags as schema

RULE = "os_compute_api:os-server-tags:%s"


def _server(req: wsgi.ApiRequest, server_id: str, action: str) -> object:
    if req.ver < (2, 26):
        raise wsgi.not_found()
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % action, {"project_id": inst.project_id})
    return inst


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "index")
    return wsgi.Reply(200, {"tags": list(inst.get("tags") or [])})


def show(req: wsgi.ApiRequest, server_id: str, tag: str) -> wsgi.Reply:
    inst = _server(req, server_id, "show")
    if tag not in (inst.get("tags") or []):
        raise exception.InstanceTagNotFound(instance_id=server_id, tag=tag)
    return wsgi.Reply(204)


def update_all(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    _server(req, server_id, "update_all")
    body = validation.body(req, schema.TAGS_SET)
    tags, _changed = req.conductor.server_tags_update(req.ctx, server_id, body["tags"], [],
                                                      replace=True)
    return wsgi.Reply(200, {"tags": tags})


def update(req: wsgi.ApiRequest, server_id: str, tag: str) -> wsgi.Reply:
    """PUT /tags/{tag}: 201 with a Location when added, 204 when it was there."""
    _server(req, server_id, "update")
    validation.validate(schema.TAG, tag)
    _tags, changed = req.conductor.server_tags_update(req.ctx, server_id, [tag], [])
    if not changed:
        return wsgi.Reply(204)
    return wsgi.Reply(201, headers=[("Location", req.url("servers", server_id, "tags",
                                                          tag))])


def delete(req: wsgi.ApiRequest, server_id: str, tag: str) -> wsgi.Reply:
    _server(req, server_id, "delete")
    req.conductor.server_tags_update(req.ctx, server_id, [], [tag])
    return wsgi.Reply(204)


def delete_all(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    _server(req, server_id, "delete_all")
    req.conductor.server_tags_update(req.ctx, server_id, [], [], replace=True)
    return wsgi.Reply(204)
