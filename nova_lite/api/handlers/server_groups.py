"""/os-server-groups: groups whose policy (affinity, anti-affinity and the soft kinds)
the scheduler applies to their members."""

from __future__ import annotations

from typing import Any

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.schemas import server_groups as schema

RULE = "os_compute_api:os-server-groups:%s"


def view(req: wsgi.ApiRequest, group: Any) -> dict:
    out: dict[str, Any] = {"id": group.uuid, "name": group.name,
                           "members": list(group.members or [])}
    if req.ver >= (2, 64):
        out["policy"] = group.policy
        out["rules"] = dict(group.rules or {})
    else:
        out["policies"] = [group.policy]
        out["metadata"] = {}
    if req.ver >= (2, 13):
        out["project_id"] = group.project_id
        out["user_id"] = group.user_id
    return out


def get_group(req: wsgi.ApiRequest, group_id: str) -> Any:
    """The group, or 404 when it does not exist or belongs to another project."""
    group = req.conductor.server_group_get(req.ctx, group_id)
    if not req.ctx.is_admin and group.project_id != req.ctx.project_id:
        raise exception.InstanceGroupNotFound(group_uuid=group_id)
    return group


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    ctx = req.ctx
    policy.authorize(ctx, RULE % "index", {"project_id": ctx.project_id})
    params = req.params
    project_id = ctx.project_id
    if validation.parse_bool("all_projects", params.get("all_projects", False),
                             empty_is=True):
        if policy.check(ctx, RULE % "index:all_projects", {"project_id": ctx.project_id}):
            project_id = None
    offset = validation.parse_int("offset", params["offset"], 0) if "offset" in params else 0
    limit = req.conf.api.max_limit
    if "limit" in params:
        limit = min(validation.parse_int("limit", params["limit"], 1), limit)
    groups = req.conductor.server_group_list(ctx, project_id)[offset:offset + limit]
    return wsgi.Reply(200, {"server_groups": [view(req, g) for g in groups]})


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    group = get_group(req, id)
    policy.authorize(req.ctx, RULE % "show", {"project_id": group.project_id})
    return wsgi.Reply(200, {"server_group": view(req, group)})


def create(req: wsgi.ApiRequest) -> wsgi.Reply:
    ctx = req.ctx
    policy.authorize(ctx, RULE % "create", {"project_id": ctx.project_id,
                                            "user_id": ctx.user_id})
    body = validation.body(req, schema.create_schema(req.ver))["server_group"]
    if req.ver >= (2, 64):
        group_policy = body["policy"]
        rules = {k: int(v) for k, v in (body.get("rules") or {}).items()}
        if rules and group_policy != "anti-affinity":
            raise wsgi.bad_request("Only anti-affinity policy supports rules.")
    else:
        group_policy, rules = body["policies"][0], {}
    group = req.conductor.server_group_create(ctx, body["name"], group_policy, rules)
    return wsgi.Reply(200, {"server_group": view(req, group)})


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    group = get_group(req, id)
    policy.authorize(req.ctx, RULE % "delete", {"project_id": group.project_id})
    req.conductor.server_group_delete(req.ctx, id)
    return wsgi.Reply(204)
