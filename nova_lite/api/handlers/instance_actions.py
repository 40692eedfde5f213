"""GET /servers/{id}/os-instance-actions[/{request_id}]: a server's audit trail.

Events (and, from 2.51, only their tracebacks) are shown per the ``events`` rule;
from 2.62 events name the host (admins) and hostId (everyone).
"""

from __future__ import annotations

import datetime
from typing import Any

from nova_lite import policy
from nova_lite.api import common, validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.views.servers import allowed, host_id

RULE = "os_compute_api:os-instance-actions:%s"
_LIST_PARAMS = frozenset(("limit", "marker", "changes-since", "changes-before"))


def _action_view(req: wsgi.ApiRequest, action: Any) -> dict:
    out = {
        "action": action.action,
        "instance_uuid": action.instance_uuid,
        "message": action.message,
        "project_id": action.project_id,
        "request_id": action.request_id,
        "start_time": common.strtime(action.start_time),
        "user_id": action.user_id,
    }
    if req.ver >= (2, 58):
        out["updated_at"] = common.strtime(action.updated_at or action.start_time)
    return out


def _event_view(req: wsgi.ApiRequest, event: Any, project_id: str, details: bool) -> dict:
    out = {
        "event": event.event,
        "start_time": common.strtime(event.start_time),
        "finish_time": common.strtime(event.finish_time),
        "result": event.result,
    }
    if details:
        out["traceback"] = event.traceback
    if req.ver >= (2, 62):
        out["hostId"] = host_id(project_id, event.host)
        if details:
            out["host"] = event.host or ""
    if req.ver >= (2, 84):
        out["details"] = event.details
    return out


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    # From 2.21 a deleted server's history stays readable.
    inst = get_server(req, server_id, read_deleted=req.ver >= (2, 21))
    policy.authorize(req.ctx, RULE % "list", {"project_id": inst.project_id})
    actions = req.conductor.instance_actions(req.ctx, server_id,
                                             read_deleted=req.ver >= (2, 21))
    body: dict[str, Any] = {}
    if req.ver >= (2, 58):
        if req.ver >= (2, 75):
            validation.reject_unknown_query_params(req.params, _LIST_PARAMS)
        for key, since in (("changes-since", True), ("changes-before", False)):
            if key in req.params and (key == "changes-since" or req.ver >= (2, 66)):
                when = common.parse_time(key, req.params[key])
                actions = [a for a in actions if _changed(a, when, since)]
        limit, marker = common.limit_and_marker(req)
        actions = common.paginate(actions, limit, marker, key=lambda a: a.request_id)
        links = common.next_links(req, f"servers/{server_id}/os-instance-actions", actions,
                                  limit, actions[-1].request_id if actions else None)
        if links:
            body["links"] = links
    body["instanceActions"] = [_action_view(req, a) for a in actions]
    return wsgi.Reply(200, body)


def _changed(action: Any, when: Any, since: bool) -> bool:
    t = action.updated_at or action.start_time
    if t.tzinfo is None:
        t = t.replace(tzinfo=datetime.timezone.utc)
    return t >= when if since else t <= when


def show(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    inst = get_server(req, server_id, read_deleted=req.ver >= (2, 21))
    policy.authorize(req.ctx, RULE % "show", {"project_id": inst.project_id})
    actions = req.conductor.instance_actions(req.ctx, server_id, request_id=id,
                                             read_deleted=req.ver >= (2, 21))
    if not actions:
        raise wsgi.not_found(f"Action {id} on instance {server_id} could not be found")
    action = actions[0]
    out = _action_view(req, action)
    details = allowed(req.ctx, RULE % "events")
    if req.ver >= (2, 51) or details:
        out["events"] = [_event_view(req, e, inst.project_id, details)
                         for e in action.events or ()]
    return wsgi.Reply(200, {"instanceAction": out})
