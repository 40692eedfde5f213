"""/os-quota-class-sets/{class}: the defaults every project gets (class ``default``).

A value set here wins over the [quota] option of the same name.
"""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers import quota_sets
from nova_lite.api.schemas import quota_sets as schema

RULE = "os_compute_api:os-quota-class-sets:%s"


def _body(req: wsgi.ApiRequest, class_name: Optional[str], values: dict) -> dict:
    out: dict[str, Any] = {"id": class_name} if class_name is not None else {}
    for name in schema.quota_class_resources(req.ver):
        if name in values:
            out[name] = values[name]
    return {"quota_class_set": out}


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "show", {"quota_class": id})
    return wsgi.Reply(200, _body(req, id, req.conductor.quota_class_get(req.ctx, id)))


def update(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "update", {"quota_class": id})
    body = validation.body(req, schema.quota_class_update(req.ver))
    if len(id) > 255:
        raise wsgi.bad_request("quota_class_name has a maximum length of 255 characters.")
    values = {k: quota_sets.parse_limit(k, v) for k, v in body["quota_class_set"].items()
              if k != "networks"}
    result = req.conductor.quota_class_update(req.ctx, id, values)
    return wsgi.Reply(200, _body(req, None, result))
