"""trigger_crash_dump (2.17): an NMI into the guest, whose kernel may then dump."""

from __future__ import annotations

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import crash_dump as schema
from nova_lite.compute import states
from nova_lite.virt import driver as virt_driver


def trigger_crash_dump(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    if req.ver < (2, 17):
        raise wsgi.not_found()
    validation.validate(schema.TRIGGER_CRASH_DUMP, body)
    inst = get_server(req, id)
    t = states.get("trigger_crash_dump")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id,
                                         "user_id": inst.user_id})
    states.check_allowed(t.name, inst, req.ctx)
    if inst.power_state != virt_driver.RUNNING:
        raise exception.InstanceNotRunning(instance_id=id)
    req.conductor.server_action(req.ctx, id, t.name, {})
    return wsgi.Reply(202)
