"""Traits (1.6): GET /traits (name=in:A,B or startswith:P; associated), GET/PUT/DELETE
/traits/{name} (only CUSTOM_ ones are created or deleted), and a provider's traits
GET/PUT/DELETE /resource_providers/{uuid}/traits."""

from __future__ import annotations

from typing import Any

from nova_lite.placement import names, params, schemas
from nova_lite.placement.wsgi import HTTPError, PlacementRequest, Reply, bad_request


def index(req: PlacementRequest) -> Reply:
    req.authorize("placement:traits:list")
    params.reject_unknown(req.params, {"name", "associated"})
    kwargs: dict[str, Any] = {}
    name = params.single(req.params, "name")
    if name is not None:
        if name.startswith("in:"):
            kwargs["names_in"] = [n.strip() for n in name[3:].split(",") if n.strip()]
        elif name.startswith("startswith:"):
            kwargs["startswith"] = name[len("startswith:"):]
        else:
            raise bad_request(f"Badly formatted name parameter. Expected name query "
                              f"string parameter in form: ?name=startswith:CUSTOM_ or "
                              f"?name=in:CUSTOM_A,CUSTOM_B. Got: \"{name}\"",
                              params.BAD_VALUE)
    associated = params.single(req.params, "associated")
    if associated is not None:
        kwargs["associated"] = params.as_bool("associated", associated)
    return Reply(200, {"traits": req.conductor.trait_list(req.ctx, **kwargs)})


def show(req: PlacementRequest, name: str) -> Reply:
    req.authorize("placement:traits:show")
    if not req.conductor.trait_list(req.ctx, names_in=[name]):
        raise HTTPError(404, f"No such trait(s): {name}")
    return Reply(204)


def update(req: PlacementRequest, name: str) -> Reply:
    req.authorize("placement:traits:update")
    if not names.CUSTOM_RE.match(name):
        raise bad_request(f"The trait is invalid. A valid trait must be no longer than "
                          f"255 characters, start with the prefix \"CUSTOM_\" and use "
                          f"following characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"; "
                          f"got {name}")
    created = req.conductor.trait_create(req.ctx, name)
    return Reply(201 if created else 204, None, [("Location", f"/traits/{name}")])


def delete(req: PlacementRequest, name: str) -> Reply:
    req.authorize("placement:traits:delete")
    if not names.CUSTOM_RE.match(name):
        raise bad_request(f"Cannot delete standard trait {name}.")
    req.conductor.trait_delete(req.ctx, name)
    return Reply(204)


def _reply(traits: list, generation: int) -> Reply:
    return Reply(200, {"traits": traits, "resource_provider_generation": generation})


def provider_index(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:traits:list")
    d = req.conductor.provider_detail(req.ctx, uuid, "traits")
    return _reply(d["traits"], d["generation"])


def provider_update(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:traits:update")
    body = schemas.validate(schemas.TRAITS, req.json_body())
    gen = req.conductor.provider_traits_set(req.ctx, uuid,
                                            body["resource_provider_generation"],
                                            body["traits"])
    return _reply(sorted(body["traits"]), gen)


def provider_delete(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:traits:delete")
    d = req.conductor.provider_detail(req.ctx, uuid, "traits")
    req.conductor.provider_traits_set(req.ctx, uuid, d["generation"], [])
    return Reply(204)
