"""/os-aggregates (admin): host aggregates, their hosts and metadata; an aggregate with
``availability_zone`` metadata puts its hosts in that zone."""

from __future__ import annotations

from typing import Any

from nova_lite import policy
from nova_lite.api import common, validation, wsgi
from nova_lite.api.schemas import aggregates as schema

RULE = "os_compute_api:os-aggregates:%s"


def view(req: wsgi.ApiRequest, agg: Any, full: bool = True) -> dict:
    out: dict[str, Any] = {
        "availability_zone": agg.availability_zone, "created_at": common.strtime(
            agg.created_at), "deleted": False, "deleted_at": None, "id": agg.id,
        "name": agg.name, "updated_at": common.strtime(agg.updated_at)}
    if full:
        out["hosts"] = list(agg.hosts or [])
        out["metadata"] = dict(agg.metadata or {})
    if req.ver >= (2, 41):
        out["uuid"] = agg.uuid
    return out


def _id(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise wsgi.bad_request(f"Invalid aggregate id {text}: it must be an integer."
                               ) from None
    if not validation.fits_db_int(n):  # no such row, and too wide to look up
        raise wsgi.not_found(f"Aggregate {text} could not be found.")
    return n


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "index")
    return wsgi.Reply(200, {"aggregates": [view(req, a) for a in
                                           req.conductor.aggregate_list(req.ctx)]})


def create(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "create")
    body = validation.body(req, schema.CREATE)["aggregate"]
    agg = req.conductor.aggregate_create(req.ctx, body["name"].strip(),
                                         body.get("availability_zone"))
    # Nova's create reply has neither hosts nor metadata.
    return wsgi.Reply(200, {"aggregate": view(req, agg, full=False)})


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "show")
    return wsgi.Reply(200, {"aggregate": view(req, req.conductor.aggregate_get(req.ctx,
                                                                               _id(id)))})


def update(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "update")
    body = validation.body(req, schema.UPDATE)["aggregate"]
    values: dict[str, Any] = {}
    if "name" in body:
        values["name"] = body["name"].strip()
    if "availability_zone" in body:
        values["metadata"] = {"availability_zone": body["availability_zone"]}
    agg = req.conductor.aggregate_update(req.ctx, _id(id), values)
    return wsgi.Reply(200, {"aggregate": view(req, agg)})


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "delete")
    req.conductor.aggregate_delete(req.ctx, _id(id))
    return wsgi.Reply(200)


def _add_host(req: wsgi.ApiRequest, agg_id: int, body: dict) -> Any:
    policy.authorize(req.ctx, RULE % "add_host")
    validation.validate(schema.ADD_HOST, body)
    return req.conductor.aggregate_add_host(req.ctx, agg_id, body["add_host"]["host"])


def _remove_host(req: wsgi.ApiRequest, agg_id: int, body: dict) -> Any:
    policy.authorize(req.ctx, RULE % "remove_host")
    validation.validate(schema.REMOVE_HOST, body)
    return req.conductor.aggregate_remove_host(req.ctx, agg_id,
                                               body["remove_host"]["host"])


def _set_metadata(req: wsgi.ApiRequest, agg_id: int, body: dict) -> Any:
    policy.authorize(req.ctx, RULE % "set_metadata")
    validation.validate(schema.SET_METADATA, body)
    return req.conductor.aggregate_update(req.ctx, agg_id,
                                          {"metadata": body["set_metadata"]["metadata"]})


ACTIONS = {"add_host": _add_host, "remove_host": _remove_host,
           "set_metadata": _set_metadata}


def action(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    body = req.json_body()
    if not isinstance(body, dict) or len(body) != 1 or next(iter(body)) not in ACTIONS:
        raise wsgi.bad_request("Invalid request body: expected one of add_host, "
                               "remove_host, set_metadata.")
    agg = ACTIONS[next(iter(body))](req, _id(id), body)
    return wsgi.Reply(200, {"aggregate": view(req, agg)})
