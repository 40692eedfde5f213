"""/resource_providers/{uuid}/inventories[/{resource_class}]: list, replace, update
one, delete one or (1.5) all. min_unit and step_size are 1 and max_unit is the total
here; other values are refused rather than ignored."""

from __future__ import annotations

from nova_lite.placement import names, schemas
from nova_lite.placement.wsgi import HTTPError, PlacementRequest, Reply, bad_request


def _inventory(inv: dict) -> dict:
    return {k: inv[k] for k in ("allocation_ratio", "max_unit", "min_unit", "reserved",
                                "step_size", "total")}


def _checked(rc: str, inv: dict) -> dict:
    if not names.known_resource_class(rc):
        raise bad_request(f"Unknown resource class in inventory for resource provider: "
                          f"{rc}")
    total, reserved = inv["total"], inv.get("reserved", 0)
    if reserved > total:
        raise bad_request(f"Unable to update inventory for resource provider: Invalid "
                          f"inventory for '{rc}': reserved {reserved} is greater than "
                          f"total {total}.")
    if inv.get("min_unit", 1) != 1 or inv.get("step_size", 1) != 1 or \
            inv.get("max_unit", total) != total:
        raise bad_request(f"Unable to update inventory for '{rc}': only min_unit 1, "
                          "step_size 1 and max_unit equal to total are supported.")
    return {"total": total, "reserved": reserved,
            "allocation_ratio": float(inv.get("allocation_ratio", 1.0))}


def index(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:inventories:list")
    d = req.conductor.provider_detail(req.ctx, uuid, "inventories")
    return Reply(200, {"inventories": {rc: _inventory(i) for rc, i in
                                       d["inventories"].items()},
                       "resource_provider_generation": d["generation"]})


def update_all(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:inventories:update")
    body = schemas.validate(schemas.INVENTORIES, req.json_body())
    invs = {rc: _checked(rc, inv) for rc, inv in body["inventories"].items()}
    req.conductor.inventories_set(req.ctx, uuid, body["resource_provider_generation"],
                                  invs, replace=True)
    return index(req, uuid)


def show(req: PlacementRequest, uuid: str, resource_class: str) -> Reply:
    req.authorize("placement:resource_providers:inventories:show")
    d = req.conductor.provider_detail(req.ctx, uuid, "inventories")
    inv = d["inventories"].get(resource_class)
    if inv is None:
        raise HTTPError(404, f"No inventory of class {resource_class} for {uuid}")
    return Reply(200, {**_inventory(inv), "resource_provider_generation": d["generation"]})


def update(req: PlacementRequest, uuid: str, resource_class: str) -> Reply:
    req.authorize("placement:resource_providers:inventories:update")
    body = schemas.validate(schemas.INVENTORY_ONE, req.json_body())
    gen = body.pop("resource_provider_generation")
    inv = _checked(resource_class, body)
    req.conductor.inventories_set(req.ctx, uuid, gen, {resource_class: inv},
                                  replace=False)
    return show(req, uuid, resource_class)


def delete(req: PlacementRequest, uuid: str, resource_class: str) -> Reply:
    req.authorize("placement:resource_providers:inventories:delete")
    req.conductor.inventory_delete(req.ctx, uuid, resource_class)
    return Reply(204)


def delete_all(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:inventories:delete")
    d = req.conductor.provider_detail(req.ctx, uuid, "inventories")
    req.conductor.inventories_set(req.ctx, uuid, d["generation"], {}, replace=True)
    return Reply(204)
