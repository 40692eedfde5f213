"""/os-keypairs: a user's ssh and x509 public keys.

Import (any version) or server-side generation (below 2.92, returns the private key once);
``type`` from 2.2 (and 201/204 codes); admins act for another user with ``user_id`` from
2.10; paging from 2.35. A user sees only their own key pairs.
"""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import crypto, exception, policy
from nova_lite.api import common, validation, wsgi
from nova_lite.api.schemas import keypairs as schema
from nova_lite.objects.keypair import KeyPair

RULE = "os_compute_api:os-keypairs:%s"


def _user_id(req: wsgi.ApiRequest, listing: bool = False) -> str:
    if req.ver >= (2, 75):
        validation.reject_unknown_query_params(req.params, schema.query_params(req.ver,
                                                                              listing))
    if req.ver >= (2, 10):
        values = req.params.getall("user_id")
        if values:
            return values[0]
    return req.ctx.user_id


def _authorize(req: wsgi.ApiRequest, action: str, user_id: str) -> None:
    policy.authorize(req.ctx, RULE % action, {"user_id": user_id,
                                              "project_id": req.ctx.project_id})


def _view(req: wsgi.ApiRequest, kp: Any, *extra: str) -> dict:
    out = {"name": kp.name, "public_key": kp.public_key, "fingerprint": kp.fingerprint}
    if req.ver >= (2, 2):
        out["type"] = kp.type
    for field in extra:
        out[field] = getattr(kp, field)
    return out


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    user_id = _user_id(req, listing=True)
    _authorize(req, "index", user_id)
    limit: Optional[int] = None
    marker: Optional[str] = None
    if req.ver >= (2, 35):
        limit, marker = common.limit_and_marker(req)
    keypairs = req.conductor.keypair_list(req.ctx, user_id, limit, marker)
    body: dict[str, Any] = {"keypairs": [{"keypair": _view(req, k)} for k in keypairs]}
    if limit is not None:
        links = common.next_links(req, "os-keypairs", keypairs, limit,
                                  keypairs[-1].name if keypairs else None)
        if links:
            body["keypairs_links"] = links
    return wsgi.Reply(200, body)


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    user_id = _user_id(req)
    _authorize(req, "show", user_id)
    kp = req.conductor.keypair_get(req.ctx, user_id, id)
    out = _view(req, kp, "id", "user_id")
    out.update({"created_at": common.strtime(kp.created_at),
                "updated_at": common.strtime(kp.updated_at), "deleted": False,
                "deleted_at": None})
    return wsgi.Reply(200, {"keypair": out})


def create(req: wsgi.ApiRequest) -> wsgi.Reply:
    body = validation.body(req, schema.create_schema(req.ver))
    params = body["keypair"]
    user_id = params.get("user_id") or req.ctx.user_id
    _authorize(req, "create", user_id)
    key_type = params.get("type", crypto.SSH)
    private_key = None
    if "public_key" in params:
        public_key = params["public_key"]
        fingerprint = crypto.fingerprint(key_type, public_key)
    else:
        private_key, public_key, fingerprint = crypto.generate(key_type, user_id)
    kp = req.conductor.keypair_create(req.ctx, KeyPair(
        name=params["name"], user_id=user_id, fingerprint=fingerprint,
        public_key=public_key, type=key_type))
    out = _view(req, kp, "user_id")
    if private_key is not None:
        out["private_key"] = private_key
    return wsgi.Reply(201 if req.ver >= (2, 2) else 200, {"keypair": out})


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    user_id = _user_id(req)
    _authorize(req, "delete", user_id)
    req.conductor.keypair_delete(req.ctx, user_id, id)
    return wsgi.Reply(204 if req.ver >= (2, 2) else 202)


def for_server(req: wsgi.ApiRequest, key_name: str) -> Any:
    """The caller's key pair named in a server create (400 when there is none)."""
    try:
        return req.conductor.keypair_get(req.ctx, req.ctx.user_id, key_name)
    except exception.KeypairNotFound:
        raise wsgi.bad_request("Invalid key_name provided.") from None
