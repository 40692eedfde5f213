"""GET /allocation_candidates (1.10): the providers that can take the whole unsuffixed
request group (resources, required 1.17, member_of 1.21, limit 1.16), as allocation
requests (a list before 1.12, keyed by provider after; ``mappings`` from 1.34) and
provider summaries (every class of the provider from 1.27, traits 1.17, tree 1.29)."""

from __future__ import annotations

from typing import Any

from nova_lite.placement import params
from nova_lite.placement.db_view import capacity
from nova_lite.placement.handlers import resource_providers
from nova_lite.placement.wsgi import PlacementRequest, Reply, bad_request

_FILTERS = ((None, "resources"), ((1, 16), "limit"), ((1, 17), "required"),
            ((1, 21), "member_of"), ((1, 33), "group_policy"))


def index(req: PlacementRequest) -> Reply:
    req.authorize("placement:allocation_candidates:list")
    if not req.params.get("resources"):
        raise bad_request("Invalid query string parameters: 'resources' is a required "
                          "property", params.BAD_VALUE)
    filters = resource_providers.filters(req, _FILTERS)
    limit = params.single(req.params, "limit")
    found = req.conductor.allocation_candidates(
        req.ctx, filters, params.limit(limit) if limit is not None else None)
    wanted = filters["resources"]
    requests: list[dict[str, Any]] = []
    summaries: dict[str, Any] = {}
    for c in found:
        if req.ver < (1, 12):
            requests.append({"allocations": [{"resource_provider": {"uuid": c["uuid"]},
                                              "resources": wanted}]})
        else:
            ar: dict[str, Any] = {"allocations": {c["uuid"]: {"resources": wanted}}}
            if req.ver >= (1, 34):
                ar["mappings"] = {"": [c["uuid"]]}
            requests.append(ar)
        classes = c["inventories"] if req.ver >= (1, 27) else {
            rc: c["inventories"][rc] for rc in wanted}
        summary: dict[str, Any] = {"resources": {
            rc: {"capacity": capacity(inv), "used": c["usages"].get(rc, 0)}
            for rc, inv in classes.items()}}
        if req.ver >= (1, 17):
            summary["traits"] = c["traits"]
        if req.ver >= (1, 29):
            summary["parent_provider_uuid"] = None
            summary["root_provider_uuid"] = c["uuid"]
        summaries[c["uuid"]] = summary
    return Reply(200, {"allocation_requests": requests, "provider_summaries": summaries})
