"""POST /servers/{id}/action: lifecycle actions and console output.

Each action key names a transition of nova_lite.compute.states (its policy rule and
conductor action name are declared there) and a body schema; the conductor answers 409
when the server's state does not allow it.
"""

from __future__ import annotations

from typing import Any, Callable

from nova_lite import policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers import (admin_password, crash_dump, remote_consoles, rescue,
                                    security_groups, server_admin_actions, server_lock,
                                    server_moves, server_rebuild, server_resize, shelve,
                                    snapshots)
from nova_lite.api.handlers import server_migrate
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import server_actions as schema
from nova_lite.compute import states

# Action keys whose bodies carry more than a bare null: their own handler modules.
HANDLERS: dict[str, Callable[[wsgi.ApiRequest, str, dict], wsgi.Reply]] = {
    "shelve": shelve.shelve,
    "shelveOffload": shelve.shelve_offload,
    "unshelve": shelve.unshelve,
    "rescue": rescue.rescue,
    "unrescue": rescue.unrescue,
    "createImage": snapshots.create_image,
    "createBackup": snapshots.create_backup,
    "trigger_crash_dump": crash_dump.trigger_crash_dump,
    "changePassword": admin_password.change_password,
    **server_lock.HANDLERS, **server_admin_actions.HANDLERS, **server_rebuild.HANDLERS,
    **server_resize.HANDLERS, **server_migrate.HANDLERS, **server_moves.HANDLERS,
}

def action(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    body = req.json_body()
    if not isinstance(body, dict) or len(body) != 1:
        raise wsgi.bad_request("There is either no action or more than one action in the "
                               "request body.")
    key = next(iter(body))
    if key == "reboot":
        return _reboot(req, id, body)
    if key == "os-getConsoleOutput":
        return _console_output(req, id, body)
    if key == "os-getVNCConsole":
        return remote_consoles.get_vnc_console(req, id, body)
    if key in security_groups.ACTIONS:
        return security_groups.action(req, id, key, body)
    if key in HANDLERS:
        return HANDLERS[key](req, id, body)
    transition = states.BY_API_KEY.get(key)
    if transition is not None and key in schema.SIMPLE:
        validation.validate(schema.SIMPLE[key], body)
        inst = get_server(req, id)
        policy.authorize(req.ctx, transition.policy, {"project_id": inst.project_id})
        req.conductor.server_action(req.ctx, id, transition.name, {})
        return wsgi.Reply(202)
    raise wsgi.bad_request(f"There is no such action: {key}")


def _reboot(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.REBOOT, body)
    inst = get_server(req, id)
    hard = body["reboot"]["type"].upper() == "HARD"
    transition = states.get("reboot_hard" if hard else "reboot")
    policy.authorize(req.ctx, transition.policy, {"project_id": inst.project_id})
    req.conductor.server_action(req.ctx, id, transition.name, {})
    return wsgi.Reply(202)


def _console_output(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.CONSOLE_OUTPUT, body)
    inst = get_server(req, id)
    policy.authorize(req.ctx, "os_compute_api:os-console-output",
                     {"project_id": inst.project_id})
    length: Any = (body["os-getConsoleOutput"] or {}).get("length")
    if length is not None:
        length = int(length)
        if length < -1:
            raise wsgi.bad_request("length must be -1 or greater")
        if length == -1:
            length = None
    output = req.conductor.console_output(req.ctx, id, length)
    return wsgi.Reply(200, {"output": output})
