"""/flavors/{flavor_id}/os-extra_specs: a flavor's extra specs (validated from 2.86)."""

from __future__ import annotations

from typing import Any

from nova_lite import exception, policy
from nova_lite.api import extra_specs, validation, wsgi
from nova_lite.api.handlers.flavors import visible_flavor
from nova_lite.api.schemas import flavor_extras as schema

RULE = "os_compute_api:os-flavor-extra-specs:%s"


def _stringify(req: wsgi.ApiRequest, specs: dict) -> dict:
    """Values as stored (numbers and booleans become strings), checked per 2.86."""
    out = {}
    for key, value in specs.items():
        text = str(value)
        if len(text) > 255:
            raise wsgi.bad_request(f"extra_specs value {key} has more than 255 characters.")
        if req.ver >= (2, 86):
            extra_specs.validate(key, text)
        out[key] = text
    return out


def index(req: wsgi.ApiRequest, flavor_id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "index")
    flavor = visible_flavor(req, flavor_id)
    return wsgi.Reply(200, {"extra_specs": dict(flavor.extra_specs or {})})


def create(req: wsgi.ApiRequest, flavor_id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "create")
    body = validation.body(req, schema.EXTRA_SPECS_CREATE)
    specs = _stringify(req, body["extra_specs"])
    req.conductor.flavor_extra_specs_update(req.ctx, flavor_id, specs)
    return wsgi.Reply(200, {"extra_specs": specs})


def show(req: wsgi.ApiRequest, flavor_id: str, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "show")
    flavor = visible_flavor(req, flavor_id)
    specs: dict[str, Any] = flavor.extra_specs or {}
    if id not in specs:
        raise exception.FlavorExtraSpecsNotFound(flavor_id=flavor_id, extra_specs_key=id)
    return wsgi.Reply(200, {id: specs[id]})


def update(req: wsgi.ApiRequest, flavor_id: str, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "update")
    body = validation.body(req, schema.EXTRA_SPEC_UPDATE)
    if id not in body:
        raise wsgi.bad_request("Request body and URI mismatch")
    specs = _stringify(req, body)
    req.conductor.flavor_extra_specs_update(req.ctx, flavor_id, specs)
    return wsgi.Reply(200, specs)


def delete(req: wsgi.ApiRequest, flavor_id: str, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "delete")
    req.conductor.flavor_extra_spec_delete(req.ctx, flavor_id, id)
    return wsgi.Reply(202)
