"""POST /os-server-external-events: what Neutron (and other services) tell the compute
hosts about servers. The conductor routes each event to the server's host; the reply
gives each event's code (200 delivered, 404 no such server, 422 not on a host yet, 400 a
volume-extended or volume-reimaged without the volume id as its tag) and is 207 unless
all were delivered, 404 when none was. A volume-extended event starts the server's
extend_volume action; volume-reimaged (2.93) ends the wait of a rebuild that re-images
the server's root volume."""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.schemas import networking as schema

RULE = "os_compute_api:os-server-external-events:create"
# Events that name what they are about in their tag (the volume id).
TAG_REQUIRED = ("volume-extended", "volume-reimaged")


def create(req: wsgi.ApiRequest) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE, {"project_id": req.ctx.project_id})
    body = validation.body(req, schema.external_events(req.ver))
    events, sent = [], []
    for ev in body["events"]:
        event = {"name": ev["name"], "server_uuid": ev["server_uuid"],
                 "status": ev.get("status", "completed")}
        if "tag" in ev:
            event["tag"] = ev["tag"]
        if event["name"] in TAG_REQUIRED and ev.get("tag") is None:
            event.update(status="failed", code=400)  # Nova's answer, not sent on
        else:
            sent.append(event)
        events.append(event)
    routed = iter(req.conductor.external_instance_event(req.ctx, sent) if sent else [])
    results = [e if "code" in e else next(routed) for e in events]
    codes = {r["code"] for r in results}
    if codes == {404}:
        raise wsgi.not_found("No instances found for any event")
    return wsgi.Reply(200 if codes == {200} else 207, {"events": results})
