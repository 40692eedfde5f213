"""/os-simple-tenant-usage[/{tenant_id}]: what servers consumed over a window.

Hours are counted from each server's launch to its termination (or the window's end),
clipped to the window, so deleted servers count for the time they lived. Paging (2.40)
is over servers, by (project, uuid).
"""

from __future__ import annotations

import datetime
from typing import Any, Optional

from nova_lite import policy
from nova_lite.api import common, validation, wsgi

RULE = "os_compute_api:os-simple-tenant-usage:%s"
_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def _naive_utc(dt: datetime.datetime) -> datetime.datetime:
    if dt.tzinfo is not None:
        dt = dt.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return dt


def _parse(value: Optional[str]) -> datetime.datetime:
    if not value:
        return datetime.datetime.utcnow()
    for fmt in _FORMATS:
        try:
            return datetime.datetime.strptime(value, fmt)
        except ValueError:
            pass
    try:  # ISO 8601 with an offset, as some clients send
        return _naive_utc(datetime.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        raise wsgi.bad_request("Invalid start or end time: Datetime is in invalid format "
                               f"('{value}').") from None


def _window(req: wsgi.ApiRequest, listing: bool) -> tuple[Any, Any, bool]:
    params = req.params
    if req.ver >= (2, 75):
        allowed = {"start", "end"} | ({"detailed"} if listing else set())
        if req.ver >= (2, 40):
            allowed |= {"limit", "marker"}
        validation.reject_unknown_query_params(params, allowed)
    start, stop = _parse(params.get("start")), _parse(params.get("end"))
    if not start < stop:
        raise wsgi.bad_request("Invalid start time. The start time cannot occur after the "
                               "end time.")
    stop = min(stop, datetime.datetime.utcnow())
    return start, stop, params.get("detailed", "0") == "1"


def _hours(inst: Any, start: Any, stop: Any) -> float:
    launched = _naive_utc(inst.launched_at) if inst.launched_at else None
    ended = _naive_utc(inst.terminated_at) if inst.terminated_at else None
    if launched is None or launched > stop or (ended is not None and ended < start):
        return 0
    return ((min(stop, ended) if ended else stop) - max(launched, start)).total_seconds() / 3600


def _usages(instances: list, start: Any, stop: Any, detailed: bool) -> list[dict]:
    tenants: dict[str, dict] = {}
    now = datetime.datetime.utcnow()
    for inst in instances:
        flavor = inst.flavor
        hours = _hours(inst, start, stop)
        started = _naive_utc(inst.launched_at)
        ended = _naive_utc(inst.terminated_at) if inst.terminated_at else None
        info = {
            "hours": hours, "flavor": flavor.name, "instance_id": inst.uuid,
            "name": inst.display_name, "tenant_id": inst.project_id,
            "memory_mb": flavor.memory_mb, "local_gb": flavor.root_gb + flavor.ephemeral_gb,
            "vcpus": flavor.vcpus, "started_at": common.strtime(started),
            "ended_at": common.strtime(ended),
            "state": "terminated" if ended else inst.vm_state,
            "uptime": int(((ended or now) - started).total_seconds()),
        }
        summary = tenants.get(inst.project_id)
        if summary is None:
            summary = tenants[inst.project_id] = {
                "tenant_id": inst.project_id, "total_local_gb_usage": 0,
                "total_vcpus_usage": 0, "total_memory_mb_usage": 0, "total_hours": 0,
                "start": common.strtime(start), "stop": common.strtime(stop)}
            if detailed:
                summary["server_usages"] = []
        summary["total_local_gb_usage"] += info["local_gb"] * hours
        summary["total_vcpus_usage"] += info["vcpus"] * hours
        summary["total_memory_mb_usage"] += info["memory_mb"] * hours
        summary["total_hours"] += hours
        if detailed:
            summary["server_usages"].append(info)
    return list(tenants.values())


def _fetch(req: wsgi.ApiRequest, project_id: Optional[str], start: Any, stop: Any
           ) -> tuple[list, Optional[int]]:
    limit: Optional[int] = req.conf.api.max_limit
    marker = None
    if req.ver >= (2, 40):
        limit, marker = common.limit_and_marker(req)
    return req.conductor.instances_in_window(req.ctx, project_id, start, stop, limit,
                                             marker), limit


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "list")
    start, stop, detailed = _window(req, listing=True)
    instances, limit = _fetch(req, None, start, stop)
    body: dict[str, Any] = {"tenant_usages": _usages(instances, start, stop, detailed)}
    if req.ver >= (2, 40):
        links = common.next_links(req, "os-simple-tenant-usage", instances, limit,
                                  instances[-1].uuid if instances else None)
        if links:
            body["tenant_usages_links"] = links
    return wsgi.Reply(200, body)


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE % "show", {"project_id": id})
    start, stop, _ = _window(req, listing=False)
    instances, limit = _fetch(req, id, start, stop)
    usages = _usages(instances, start, stop, detailed=True)
    body: dict[str, Any] = {"tenant_usage": usages[0] if usages else {}}
    if req.ver >= (2, 40):
        links = common.next_links(req, f"os-simple-tenant-usage/{id}", instances, limit,
                                  instances[-1].uuid if instances else None)
        if links:
            body["tenant_usage_links"] = links
    return wsgi.Reply(200, body)
