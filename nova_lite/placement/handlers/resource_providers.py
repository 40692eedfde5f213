"""GET /resource_providers (filters name, uuid; member_of 1.3; resources 1.4; in_tree
1.14; required 1.18) and GET /resource_providers/{uuid}."""

from __future__ import annotations

from typing import Any

from nova_lite.placement import params
from nova_lite.placement.wsgi import PlacementRequest, Reply

_FILTERS = ((None, "name"), (None, "uuid"), ((1, 3), "member_of"), ((1, 4), "resources"),
            ((1, 14), "in_tree"), ((1, 18), "required"))


def view(req: PlacementRequest, p: dict) -> dict:
    """A provider as Placement shows it (each is its own root here: no nesting)."""
    base = f"{req.req.script_name}/resource_providers/{p['uuid']}"
    rels = [("self", ""), ("inventories", "/inventories"), ("usages", "/usages")]
    if req.ver >= (1, 1):
        rels.append(("aggregates", "/aggregates"))
    if req.ver >= (1, 6):
        rels.append(("traits", "/traits"))
    if req.ver >= (1, 11):
        rels.append(("allocations", "/allocations"))
    out: dict[str, Any] = {"uuid": p["uuid"], "name": p["name"],
                           "generation": p["generation"],
                           "links": [{"rel": rel, "href": base + tail} for rel, tail in rels]}
    if req.ver >= (1, 14):
        out["parent_provider_uuid"] = None
        out["root_provider_uuid"] = p["uuid"]
    return out


def filters(req: PlacementRequest, allowed: tuple) -> dict:
    """The list filters the request's microversion allows, parsed."""
    names = {name for since, name in allowed if since is None or req.ver >= since}
    params.reject_unknown(req.params, names)
    out: dict[str, Any] = {}
    for name in ("name", "uuid"):
        if name in names:
            out[name] = params.single(req.params, name)
    if "in_tree" in names and params.single(req.params, "in_tree") is not None:
        tree = params.single(req.params, "in_tree")  # every tree is one provider here
        if out.get("uuid") not in (None, tree):
            out["uuid"] = "-"  # two different providers: nothing matches
        else:
            out["uuid"] = tree
    if out.get("uuid") not in (None, "-"):
        params.uuid_value(out["uuid"], "uuid" if "uuid" in req.params else "in_tree")
    if req.params.getall("member_of"):
        out["member_of"] = params.member_of(req.params.getall("member_of"), req.ver)
    resources = params.single(req.params, "resources") if "resources" in names else None
    if resources is not None:
        out["resources"] = params.resources(resources)
    if req.params.getall("required"):
        out["required"], out["forbidden"] = params.required(
            req.params.getall("required"), req.ver)
    return out


def index(req: PlacementRequest) -> Reply:
    req.authorize("placement:resource_providers:list")
    found = req.conductor.provider_list(req.ctx, filters(req, _FILTERS))
    return Reply(200, {"resource_providers": [view(req, p) for p in found]})


def show(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:show")
    return Reply(200, view(req, req.conductor.provider_get(req.ctx, uuid)))
