"""/resource_providers/{uuid}/aggregates (1.1): a list body before 1.19; from 1.19 an
object carrying the provider's generation, checked on update."""

from __future__ import annotations

from nova_lite.placement import schemas
from nova_lite.placement.wsgi import PlacementRequest, Reply


def _reply(req: PlacementRequest, aggregates: list, generation: int) -> Reply:
    body: dict = {"aggregates": aggregates}
    if req.ver >= (1, 19):
        body["resource_provider_generation"] = generation
    return Reply(200, body)


def index(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:aggregates:list")
    d = req.conductor.provider_detail(req.ctx, uuid, "aggregates")
    return _reply(req, d["aggregates"], d["generation"])


def update(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:aggregates:update")
    if req.ver < (1, 19):
        aggregates = schemas.validate(schemas.AGGREGATES_LIST, req.json_body())
        generation = None
    else:
        body = schemas.validate(schemas.AGGREGATES, req.json_body())
        aggregates, generation = body["aggregates"], body["resource_provider_generation"]
    new = req.conductor.provider_aggregates_set(req.ctx, uuid, generation, aggregates)
    return _reply(req, sorted(set(aggregates)), new)
