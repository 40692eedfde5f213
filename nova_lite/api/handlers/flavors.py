"""The flavors resource: listing and showing (everyone), creating, describing and
deleting (admins).

Everyone sees the public flavors plus the private ones their project was given access
to; admins choose with ``is_public`` (true, false, or none for all). Sorting and paging
happen here on the conductor's list.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any, Optional

from nova_lite import exception, policy
from nova_lite.api import common, validation, wsgi
from nova_lite.api.schemas import flavor_extras as extras_schema
from nova_lite.api.schemas import flavors as schema
from nova_lite.api.views import flavors as view

INDEX_RULE = "os_compute_api:flavors:index"
SHOW_RULE = "os_compute_api:flavors:show"
MANAGE_RULE = "os_compute_api:os-flavor-manage:%s"

_SORT_KEYS = {
    "flavorid": lambda f: f.flavorid, "id": lambda f: f.id, "name": lambda f: f.name,
    "memory_mb": lambda f: f.memory_mb, "vcpus": lambda f: f.vcpus,
    "root_gb": lambda f: f.root_gb, "ephemeral_gb": lambda f: f.ephemeral_gb,
    "swap": lambda f: f.swap, "rxtx_factor": lambda f: f.rxtx_factor,
    "is_public": lambda f: f.is_public, "disabled": lambda f: f.disabled,
    "description": lambda f: f.description or "", "created_at": lambda f: f.id,
    "updated_at": lambda f: f.id,
}


def _is_public(req: wsgi.ApiRequest) -> Optional[bool]:
    if not req.ctx.is_admin:
        return True
    value = req.params.get("is_public")
    if value is None:
        return True
    if value.strip().lower() == "none":
        return None
    return validation.parse_bool("is_public", value)


def _list(req: wsgi.ApiRequest) -> tuple[list, int]:
    policy.authorize(req.ctx, INDEX_RULE)
    params = req.params
    min_ram = validation.parse_int("minRam", params["minRam"], 0) if "minRam" in params else 0
    min_disk = (validation.parse_int("minDisk", params["minDisk"], 0)
                if "minDisk" in params else 0)
    flavors = req.conductor.flavor_list(req.ctx, is_public=_is_public(req),
                                        min_memory_mb=min_ram, min_root_gb=min_disk,
                                        project_id=req.ctx.project_id)
    sort_key = params.get("sort_key", "flavorid")
    sort_dir = params.get("sort_dir", "asc")
    if sort_key not in _SORT_KEYS or sort_dir not in ("asc", "desc"):
        raise wsgi.bad_request("Invalid sort_key or sort_dir provided.")
    flavors = sorted(flavors, key=_SORT_KEYS[sort_key], reverse=sort_dir == "desc")
    limit, marker = common.limit_and_marker(req)
    return common.paginate(flavors, limit, marker, key=lambda f: f.flavorid), limit


def _list_reply(req: wsgi.ApiRequest, detail: bool) -> wsgi.Reply:
    flavors, limit = _list(req)
    render = view.show if detail else view.basic
    return common.page_reply(req, "flavors", detail, [render(req, f) for f in flavors],
                             flavors, limit, flavors[-1].flavorid if flavors else None)


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list_reply(req, detail=False)


def detail(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list_reply(req, detail=True)


def usable(ctx: Any, flavor: Any) -> bool:
    """May ctx's project see and use this flavor (public, or private and shared with it)?"""
    return bool(flavor.is_public or ctx.is_admin
                or ctx.project_id in (flavor.get("projects") or []))


def visible_flavor(req: wsgi.ApiRequest, flavor_id: str) -> Any:
    """The flavor, or 404 when it is private and not shared with the caller's project."""
    flavor = req.conductor.flavor_get(req.ctx, flavor_id)
    if not usable(req.ctx, flavor):
        raise exception.FlavorNotFound(flavor_id=flavor_id)
    return flavor


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, SHOW_RULE)
    return wsgi.Reply(200, {"flavor": view.show(req, visible_flavor(req, id))})


def update(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    """PUT /flavors/{id} (2.55): only the description can change."""
    if req.ver < (2, 55):
        raise wsgi.not_found()
    policy.authorize(req.ctx, MANAGE_RULE % "update")
    body = validation.body(req, extras_schema.FLAVOR_UPDATE)
    flavor = req.conductor.flavor_update(req.ctx, id,
                                         {"description": body["flavor"]["description"]})
    return wsgi.Reply(200, {"flavor": view.show(req, flavor)})


def create(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, MANAGE_RULE % "create")
    body = validation.body(req, schema.create_schema(req.ver))
    f = body["flavor"]
    flavorid = f.get("id")
    flavorid = str(uuidlib.uuid4()) if flavorid is None else str(flavorid).strip()
    rxtx = float(f.get("rxtx_factor", 1.0))
    if rxtx <= 0:
        raise wsgi.bad_request("rxtx_factor must be greater than 0")
    is_public = validation.parse_bool("os-flavor-access:is_public",
                                      f.get("os-flavor-access:is_public", True))
    values = {
        "flavorid": flavorid,
        "name": f["name"],
        "memory_mb": int(f["ram"]),
        "vcpus": int(f["vcpus"]),
        "root_gb": int(f["disk"]),
        "ephemeral_gb": int(f.get("OS-FLV-EXT-DATA:ephemeral", 0)),
        "swap": int(f.get("swap", 0)),
        "rxtx_factor": rxtx,
        "is_public": is_public,
        "disabled": False,
        "description": f.get("description"),
    }
    flavor = req.conductor.flavor_create(req.ctx, values)
    return wsgi.Reply(200, {"flavor": view.show(req, flavor)})


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, MANAGE_RULE % "delete")
    req.conductor.flavor_destroy(req.ctx, id)
    return wsgi.Reply(202)
