"""GET /os-services: the control-plane daemons and whether they are up.

Only nova-compute, nova-scheduler and nova-conductor are listed (nova-api has no
service record in Nova either); ids are uuids from 2.53.
"""

from __future__ import annotations

from typing import Any

from nova_lite import policy
from nova_lite.api import common, validation, wsgi
from nova_lite.api.handlers import availability_zones

RULE = "os_compute_api:os-services:list"
LISTED_BINARIES = ("nova-compute", "nova-scheduler", "nova-conductor")
_QUERY_PARAMS = frozenset(("binary", "host"))


def _view(req: wsgi.ApiRequest, svc: Any, host_zones: dict) -> dict:
    out = {
        "id": svc.uuid if req.ver >= (2, 53) else svc.id,
        "binary": svc.binary,
        "host": svc.host,
        "zone": availability_zones.service_zone(req, svc, host_zones),
        "status": "disabled" if svc.disabled else "enabled",
        "state": "up" if svc.is_up else "down",
        "updated_at": common.strtime(svc.updated_at or svc.last_seen_up),
        "disabled_reason": svc.disabled_reason,
    }
    if req.ver >= (2, 11):
        out["forced_down"] = bool(svc.forced_down)
    return out


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE)
    params = req.params
    if req.ver >= (2, 75):
        validation.reject_unknown_query_params(params, _QUERY_PARAMS)
    services = req.conductor.service_list(req.ctx, binary=params.get("binary") or None,
                                          host=params.get("host") or None)
    host_zones = req.conductor.host_availability_zones(req.ctx)
    return wsgi.Reply(200, {"services": [_view(req, s, host_zones) for s in services
                                         if s.binary in LISTED_BINARIES]})
