"""Allocations: GET /resource_providers/{uuid}/allocations, and a consumer's GET, PUT
(list body before 1.12; project_id/user_id from 1.12; consumer_generation from 1.28;
consumer_type from 1.38) and DELETE on /allocations/{consumer_uuid}."""

from __future__ import annotations

import uuid as uuidlib

from nova_lite.placement import names, schemas
from nova_lite.placement.wsgi import PlacementRequest, Reply, bad_request


def provider(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:allocations:list")
    d = req.conductor.provider_detail(req.ctx, uuid, "allocations")
    return Reply(200, {"allocations": {c: {"resources": r}
                                       for c, r in d["allocations"].items()},
                       "resource_provider_generation": d["generation"]})


def _consumer(consumer_uuid: str) -> str:
    try:
        uuidlib.UUID(consumer_uuid)
    except ValueError:
        raise bad_request(f"Malformed consumer_uuid: {consumer_uuid}") from None
    return consumer_uuid


def show(req: PlacementRequest, consumer_uuid: str) -> Reply:
    req.authorize("placement:allocations:list")
    c = req.conductor.consumer_get(req.ctx, _consumer(consumer_uuid))
    body: dict = {"allocations": c["allocations"]}
    if req.ver >= (1, 12) and c["allocations"]:
        body["project_id"], body["user_id"] = c["project_id"], c["user_id"]
    if req.ver >= (1, 28) and c["allocations"]:
        body["consumer_generation"] = 1  # consumers are not versioned here: see docs
    if req.ver >= (1, 38) and c["allocations"]:
        body["consumer_type"] = c["consumer_type"]
    return Reply(200, body)


def update(req: PlacementRequest, consumer_uuid: str) -> Reply:
    req.authorize("placement:allocations:update")
    consumer = _consumer(consumer_uuid)
    body = schemas.validate(schemas.allocations_schema(req.ver), req.json_body())
    if req.ver < (1, 12):
        allocations = {a["resource_provider"]["uuid"]: a["resources"]
                       for a in body["allocations"]}
    else:
        allocations = {rp: a["resources"] for rp, a in body["allocations"].items()}
    for resources in allocations.values():
        unknown = [rc for rc in resources if not names.known_resource_class(rc)]
        if unknown:
            raise bad_request(f"Unable to allocate inventory: No such resource class "
                              f"{unknown[0]}.")
    kwargs = {}
    if req.ver >= (1, 28):
        kwargs["consumer_generation"] = body["consumer_generation"]
    req.conductor.consumer_allocations_set(req.ctx, consumer, allocations, **kwargs)
    return Reply(204)


def delete(req: PlacementRequest, consumer_uuid: str) -> Reply:
    req.authorize("placement:allocations:delete")
    req.conductor.consumer_allocations_delete(req.ctx, _consumer(consumer_uuid))
    return Reply(204)
