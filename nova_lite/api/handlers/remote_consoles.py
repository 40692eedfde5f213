"""Graphical consoles of a server: POST /servers/{id}/remote-consoles (2.6+) and the
legacy os-getVNCConsole action (2.1-2.5). nova_lite serves VNC through noVNC
(nova-lite-novncproxy); every other console type is "unavailable", as in a Nova whose
proxies for them are not deployed."""

from __future__ import annotations

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import remote_consoles as schema

RULE = "os_compute_api:os-remote-consoles"


def _console_url(req: wsgi.ApiRequest, server_id: str, protocol: str, console_type: str
                 ) -> str:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE, {"project_id": inst.project_id})
    if protocol != "vnc" or console_type != "novnc":
        raise exception.ConsoleTypeUnavailable(console_type=console_type)
    return req.conductor.server_console(req.ctx, server_id, console_type)["url"]


def create(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    if req.ver < (2, 6):
        raise wsgi.not_found()
    body = validation.body(req, schema.create_schema(req.ver))
    rc = body["remote_console"]
    url = _console_url(req, server_id, rc["protocol"], rc["type"])
    return wsgi.Reply(200, {"remote_console": {"protocol": rc["protocol"],
                                               "type": rc["type"], "url": url}})


def get_vnc_console(req: wsgi.ApiRequest, server_id: str, body: dict) -> wsgi.Reply:
    """The os-getVNCConsole action, replaced by remote-consoles in 2.6."""
    if req.ver >= (2, 6):
        raise wsgi.not_found()
    validation.validate(schema.GET_VNC_CONSOLE, body)
    console_type = body["os-getVNCConsole"]["type"]
    url = _console_url(req, server_id, "vnc", console_type)
    return wsgi.Reply(200, {"console": {"type": console_type, "url": url}})
