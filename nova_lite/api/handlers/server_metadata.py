"""/servers/{server_id}/metadata: a server's key/value metadata (6 endpoints)."""

from __future__ import annotations

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import server_tags as schema

RULE = "os_compute_api:server-metadata:%s"


def _server(req: wsgi.ApiRequest, server_id: str, action: str) -> object:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % action, {"project_id": inst.project_id})
    if action not in ("index", "show") and inst.locked and not req.ctx.is_admin:
        raise exception.InstanceIsLocked(instance_uuid=server_id)
    return inst


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "index")
    return wsgi.Reply(200, {"metadata": dict(inst.metadata or {})})


def create(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    """POST: merge the given items into the metadata."""
    _server(req, server_id, "create")
    body = validation.body(req, schema.METADATA_SET)
    meta = req.conductor.server_metadata_update(req.ctx, server_id, body["metadata"])
    return wsgi.Reply(200, {"metadata": meta})


def update_all(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    """PUT: replace the whole metadata."""
    _server(req, server_id, "update_all")
    body = validation.body(req, schema.METADATA_SET)
    meta = req.conductor.server_metadata_update(req.ctx, server_id, body["metadata"],
                                                replace=True)
    return wsgi.Reply(200, {"metadata": meta})


def show(req: wsgi.ApiRequest, server_id: str, key: str) -> wsgi.Reply:
    inst = _server(req, server_id, "show")
    meta = inst.metadata or {}
    if key not in meta:
        raise exception.MetadataItemNotFound()
    return wsgi.Reply(200, {"meta": {key: meta[key]}})


def update(req: wsgi.ApiRequest, server_id: str, key: str) -> wsgi.Reply:
    _server(req, server_id, "update")
    body = validation.body(req, schema.META_ITEM)
    item = body["meta"]
    if len(item) > 1:
        raise wsgi.bad_request("Request body contains too many items")
    if key not in item:
        raise wsgi.bad_request("Request body and URI mismatch")
    req.conductor.server_metadata_update(req.ctx, server_id, item)
    return wsgi.Reply(200, {"meta": item})


def delete(req: wsgi.ApiRequest, server_id: str, key: str) -> wsgi.Reply:
    inst = _server(req, server_id, "delete")
    if key not in (inst.metadata or {}):
        raise exception.MetadataItemNotFound()
    req.conductor.server_metadata_delete(req.ctx, server_id, key)
    return wsgi.Reply(204)
