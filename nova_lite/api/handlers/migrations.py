"""GET /os-migrations (admin): every move of every server (resizes, cold and live
migrations, evacuations), newest first, filtered; paged by uuid from 2.59.

Nova's shapes per microversion: 2.23 adds migration_type (and links for a live
migration in progress), 2.59 uuid, limit/marker paging and changes-since, 2.66
changes-before, 2.80 user_id/project_id (fields and filters).
"""

from __future__ import annotations

from typing import Any

from nova_lite import exception, policy
from nova_lite.api import common, validation, wsgi
from nova_lite.api.schemas import migrations as schema
from nova_lite.api.views import migrations as views

RULE = "os_compute_api:os-migrations:index"
_FILTERS = ("host", "status", "instance_uuid", "migration_type", "source_compute")


def _query_schema(req: wsgi.ApiRequest) -> dict:
    if req.ver >= (2, 80):
        return schema.LIST_V280
    if req.ver >= (2, 66):
        return schema.LIST_V266
    if req.ver >= (2, 59):
        return schema.LIST_V259
    return schema.LIST_V21


def _filters(req: wsgi.ApiRequest) -> dict:
    params = req.params
    out: dict[str, Any] = {}
    names = _FILTERS + (("user_id", "project_id") if req.ver >= (2, 80) else ())
    for name in names:
        values = params.getall(name)
        if values:
            out[name] = values if name == "status" else values[-1]
    times = {}
    for key, since in (("changes-since", (2, 59)), ("changes-before", (2, 66))):
        if req.ver >= since and params.get(key):
            times[key] = common.parse_time(key, params[key])
            out[key.replace("-", "_")] = times[key].isoformat()
    if len(times) == 2 and times["changes-before"] < times["changes-since"]:
        raise wsgi.bad_request("The value of changes-since must be less than or equal "
                               "to changes-before.")
    return out


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE, {})
    query = {k: req.params.getall(k) for k in req.params}
    try:
        validation.validate(_query_schema(req), query)
    except wsgi.HTTPError as err:
        raise wsgi.bad_request(err.args[0].replace("field/attribute", "query parameters")
                               if err.args else "Invalid query parameters") from None
    limit, marker = (common.limit_and_marker(req) if req.ver >= (2, 59)
                     else (None, None))
    try:
        migs = req.conductor.migration_search(req.ctx, _filters(req), limit, marker)
    except exception.MarkerNotFound as err:
        raise wsgi.bad_request(err.format_message()) from None
    body: dict[str, Any] = {"migrations": [views.os_migration(req, m) for m in migs]}
    if req.ver >= (2, 59) and limit is not None:
        links = common.next_links(req, "os-migrations", migs, limit,
                                  migs[-1].uuid if migs else None)
        if links:
            body["migrations_links"] = links
    return wsgi.Reply(200, body)
