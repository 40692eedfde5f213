"""Private flavors: who may use them (os-flavor-access list, add/removeTenantAccess)."""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.schemas import flavor_extras as schema

RULE = "os_compute_api:os-flavor-access"


def _reply(flavor_id: str, projects: list) -> wsgi.Reply:
    return wsgi.Reply(200, {"flavor_access": [
        {"flavor_id": flavor_id, "tenant_id": p} for p in projects]})


def index(req: wsgi.ApiRequest, flavor_id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE)
    flavor = req.conductor.flavor_get(req.ctx, flavor_id)
    if flavor.is_public:
        raise wsgi.not_found("Access list not available for public flavors.")
    return _reply(flavor_id, list(flavor.projects or []))


def add_tenant_access(req: wsgi.ApiRequest, flavor_id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE + ":add_tenant_access")
    body = validation.body(req, schema.ADD_TENANT_ACCESS)
    projects = req.conductor.flavor_access_add(req.ctx, flavor_id,
                                               body["addTenantAccess"]["tenant"])
    return _reply(flavor_id, projects)


def remove_tenant_access(req: wsgi.ApiRequest, flavor_id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE + ":remove_tenant_access")
    body = validation.body(req, schema.REMOVE_TENANT_ACCESS)
    projects = req.conductor.flavor_access_remove(req.ctx, flavor_id,
                                                  body["removeTenantAccess"]["tenant"])
    return _reply(flavor_id, projects)


ACTIONS = {"addTenantAccess": add_tenant_access, "removeTenantAccess": remove_tenant_access}


def action(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    """POST /flavors/{id}/action: dispatch on the body's single key."""
    body = req.json_body()
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in ACTIONS:
        raise wsgi.bad_request("There is no such action: "
                               f"{', '.join(body) if isinstance(body, dict) else body}")
    return ACTIONS[next(iter(body))](req, id)
