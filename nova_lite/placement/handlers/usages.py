"""GET /resource_providers/{uuid}/usages and (1.9) GET /usages?project_id[&user_id]
(1.38: grouped by consumer type, with consumer counts)."""

from __future__ import annotations

from nova_lite.placement import params
from nova_lite.placement.wsgi import PlacementRequest, Reply, bad_request


def provider(req: PlacementRequest, uuid: str) -> Reply:
    req.authorize("placement:resource_providers:usages")
    d = req.conductor.provider_detail(req.ctx, uuid, "usages")
    return Reply(200, {"usages": d["usages"], "resource_provider_generation": d["generation"]})


def project(req: PlacementRequest) -> Reply:
    req.authorize("placement:usages")
    allowed = {"project_id", "user_id"} | ({"consumer_type"} if req.ver >= (1, 38) else set())
    params.reject_unknown(req.params, allowed)
    project_id = params.single(req.params, "project_id")
    if not project_id:
        raise bad_request("Invalid query string parameters: 'project_id' is a required "
                          "property", params.BAD_VALUE)
    totals = req.conductor.usages_for(req.ctx, project_id,
                                      params.single(req.params, "user_id"))
    if req.ver < (1, 38):
        return Reply(200, {"usages": totals["all"]})
    wanted = params.single(req.params, "consumer_type")
    usages = {kind: {"consumer_count": g["count"], **g["resources"]}
              for kind, g in totals["by_type"].items()}
    if wanted is None or wanted == "all":
        usages = {"all": {"consumer_count": totals["count"], **totals["all"]}, **usages}
    if wanted not in (None, "all"):
        usages = {k: v for k, v in usages.items() if k == wanted}
    return Reply(200, {"usages": usages})
