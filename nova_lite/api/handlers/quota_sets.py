"""/os-quota-sets/{project_id}[/detail|/defaults]: a project's (or a user's) limits.

Readers of the project may look; only admins change or reset limits. Without ``force``
a limit below what is already in use is refused (400).
"""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.schemas import quota_sets as schema

RULE = "os_compute_api:os-quota-sets:%s"


def _user_id(req: wsgi.ApiRequest) -> Optional[str]:
    if req.ver >= (2, 75):
        validation.reject_unknown_query_params(req.params, schema.QUERY_PARAMS)
    values = req.params.getall("user_id")
    return values[0] if values else None


def _body(req: wsgi.ApiRequest, project_id: Optional[str], values: dict) -> dict:
    out: dict[str, Any] = {"id": project_id} if project_id is not None else {}
    for name in schema.quota_set_resources(req.ver):
        if name in values:
            out[name] = values[name]
    return {"quota_set": out}


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "show", {"project_id": id})
    values = req.conductor.quota_get(req.ctx, id, _user_id(req))
    return wsgi.Reply(200, _body(req, id, values))


def detail(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "detail", {"project_id": id})
    values = req.conductor.quota_get(req.ctx, id, _user_id(req), usages=True)
    values = {k: {"in_use": v["in_use"], "limit": v["limit"], "reserved": 0}
              for k, v in values.items()}
    return wsgi.Reply(200, _body(req, id, values))


def defaults(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "defaults", {"project_id": id})
    return wsgi.Reply(200, _body(req, id, req.conductor.quota_defaults(req.ctx)))


def parse_limit(name: str, value: Any) -> int:
    """A limit from a body the schema passed: a string of digits is not bounded by the
    schema's maximum, so both ends are checked here (the column is a 32-bit INT)."""
    text = str(value).strip()
    limit = int(text) if len(text.lstrip("-")) <= 12 else schema.LIMIT["maximum"] + 1
    if limit < -1:
        raise wsgi.bad_request(f"Quota limit {limit} for {name} must be -1 (unlimited) "
                               "or greater.")
    if limit > schema.LIMIT["maximum"]:
        raise wsgi.bad_request(f"Quota limit {text[:30]} for {name} must be less than or "
                               f"equal to {schema.LIMIT['maximum']}.")
    return limit


def update(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "update", {"project_id": id})
    body = validation.body(req, schema.quota_set_update(req.ver))
    user_id = _user_id(req)
    for what, value in (("project_id", id), ("user_id", user_id or "")):
        if len(value) > 255:  # the width of the quota tables' columns
            raise wsgi.bad_request(f"{what} has a maximum length of 255 characters.")
    quota_set = dict(body["quota_set"])
    force = validation.parse_bool("force", quota_set.pop("force", False))
    if "networks" in quota_set:
        raise wsgi.bad_request("The networks quota is disabled")
    values = {name: parse_limit(name, value) for name, value in quota_set.items()
              if value is not None and value != ""}
    result = req.conductor.quota_update(req.ctx, id, user_id, values, force=force)
    return wsgi.Reply(200, _body(req, None, result))


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "delete", {"project_id": id})
    req.conductor.quota_delete(req.ctx, id, _user_id(req))
    return wsgi.Reply(202)
