"""/os-services: the control-plane daemons, whether they are up, and the operator's
switches on compute services (disable with a reason, force down, delete).

Only nova-compute, nova-scheduler and nova-conductor are listed (nova-api has no
service record in Nova either); ids are uuids from 2.53, when PUT names the service by
uuid instead of carrying host and binary in the body of an action path.
"""

from __future__ import annotations

import uuid as uuidlib
from typing import Any, Callable

from nova_lite import exception, policy
from nova_lite.api import common, validation, wsgi
from nova_lite.api.handlers import availability_zones
from nova_lite.api.schemas import services as schema

RULE = "os_compute_api:os-services:%s"
LISTED_BINARIES = ("nova-compute", "nova-scheduler", "nova-conductor")
COMPUTE = "nova-compute"
_QUERY_PARAMS = frozenset(("binary", "host"))


def _view(req: wsgi.ApiRequest, svc: Any, host_zones: dict) -> dict:
    if not svc.obj_attr_is_set("id"):  # a compute of a cell that is down (2.69)
        return {"binary": svc.binary, "host": svc.host, "status": "UNKNOWN"}
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
    policy.authorize(req.ctx, RULE % "list")
    params = req.params
    if req.ver >= (2, 75):
        validation.reject_unknown_query_params(params, _QUERY_PARAMS)
    services = req.conductor.service_list(req.ctx, binary=params.get("binary") or None,
                                          host=params.get("host") or None,
                                          down_cell_minimal=req.ver >= (2, 69))
    host_zones = req.conductor.host_availability_zones(req.ctx)
    return wsgi.Reply(200, {"services": [_view(req, s, host_zones) for s in services
                                         if s.binary in LISTED_BINARIES]})


def _not_compute(binary: str) -> wsgi.HTTPError:
    return wsgi.bad_request(f"Updating a {binary} service is not supported. Only "
                            "nova-compute services can be updated.")


def _by_host(req: wsgi.ApiRequest, body: dict, values: dict, reply: dict) -> wsgi.Reply:
    if body["binary"] != COMPUTE:
        raise _not_compute(body["binary"])
    req.conductor.service_update_by_host(req.ctx, body["host"], body["binary"], values)
    return wsgi.Reply(200, {"service": dict(host=body["host"], binary=body["binary"],
                                            **reply)})


def _enable(req: wsgi.ApiRequest, body: dict) -> wsgi.Reply:
    return _by_host(req, body, {"disabled": False, "disabled_reason": None},
                    {"status": "enabled"})


def _disable(req: wsgi.ApiRequest, body: dict) -> wsgi.Reply:
    return _by_host(req, body, {"disabled": True, "disabled_reason": None},
                    {"status": "disabled"})


def _disable_log_reason(req: wsgi.ApiRequest, body: dict) -> wsgi.Reply:
    reason = body.get("disabled_reason")
    if reason is None:
        raise wsgi.bad_request("Missing disabled reason field")
    return _by_host(req, body, {"disabled": True, "disabled_reason": reason},
                    {"status": "disabled", "disabled_reason": reason})


def _force_down(req: wsgi.ApiRequest, body: dict) -> wsgi.Reply:
    if "forced_down" not in body:
        raise wsgi.bad_request("Missing forced_down field")
    down = validation.parse_bool("forced_down", body["forced_down"])
    return _by_host(req, body, {"forced_down": down}, {"forced_down": down})


_ACTIONS: dict[str, Callable[[wsgi.ApiRequest, dict], wsgi.Reply]] = {
    "enable": _enable, "disable": _disable, "disable-log-reason": _disable_log_reason,
    "force-down": _force_down}


def _update_253(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    if not _is_uuid(id):
        raise wsgi.bad_request(f"Invalid uuid {id}")
    policy.authorize(req.ctx, RULE % "update")
    body = validation.body(req, schema.UPDATE_253)
    svc = req.conductor.service_get(req.ctx, str(uuidlib.UUID(id)))
    if svc.binary != COMPUTE:
        raise _not_compute(svc.binary)
    values: dict[str, Any] = {}
    if body.get("status") == "enabled":
        if body.get("disabled_reason"):
            raise wsgi.bad_request("Specifying 'disabled_reason' with status 'enabled' "
                                   "is invalid.")
        values.update(disabled=False, disabled_reason=None)
    elif body.get("status") == "disabled":
        values.update(disabled=True, disabled_reason=body.get("disabled_reason"))
    if "forced_down" in body:
        values["forced_down"] = validation.parse_bool("forced_down", body["forced_down"])
    if not values:
        raise wsgi.bad_request("No updates were requested. Fields 'status' or "
                               "'forced_down' should be specified.")
    svc = req.conductor.service_update(req.ctx, svc.uuid, values)
    host_zones = req.conductor.host_availability_zones(req.ctx)
    return wsgi.Reply(200, {"service": _view(req, svc, host_zones)})


def update(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    """PUT /os-services/{uuid} (2.53+) or PUT /os-services/{action} before it."""
    if req.ver >= (2, 53):
        return _update_253(req, id)
    policy.authorize(req.ctx, RULE % "update")
    body = validation.body(req, schema.UPDATE_211 if req.ver >= (2, 11) else schema.UPDATE_21)
    action = _ACTIONS.get(id)
    if action is None or (id == "force-down" and req.ver < (2, 11)):
        raise wsgi.not_found("Unknown action")
    return action(req, body)


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    """DELETE /os-services/{id}: refused (409) while a compute host still has servers,
    moves or claims; otherwise its compute nodes, providers and host mapping go too."""
    policy.authorize(req.ctx, RULE % "delete")
    service_id: int | str
    if req.ver >= (2, 53):
        if not _is_uuid(id):
            raise wsgi.bad_request(f"Invalid uuid {id}")
        service_id = str(uuidlib.UUID(id))
    else:
        try:
            service_id = int(id)
        except ValueError:
            raise wsgi.bad_request("Invalid input received: id must be an integer"
                                   ) from None
        if not validation.fits_db_int(service_id):
            raise wsgi.not_found(f"Service {id} not found.")
    try:
        req.conductor.service_delete(req.ctx, service_id)
    except exception.ServiceNotFound:
        raise wsgi.not_found(f"Service {id} not found.") from None
    return wsgi.Reply(204, None)


def _is_uuid(text: str) -> bool:
    try:
        uuidlib.UUID(text)
    except ValueError:
        return False
    return True
