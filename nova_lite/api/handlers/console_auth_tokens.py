"""GET /os-console-auth-tokens/{token}: where a console token leads (admins only), for
operators checking what a console URL opens."""

from __future__ import annotations

from nova_lite import exception, policy
from nova_lite.api import wsgi

RULE = "os_compute_api:os-console-auth-tokens"


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    policy.authorize(req.ctx, RULE, {"project_id": req.ctx.project_id})
    if not id.strip():
        raise wsgi.bad_request("The type of Console Token is not valid.")
    try:
        info = req.conductor.console_token_validate(req.ctx, id)
    except exception.ConsoleTokenInvalid:
        raise wsgi.not_found("The token is invalid or has expired.") from None
    if req.ver < (2, 31) and info["console_type"] != "rdp-html5":
        raise wsgi.bad_request("The requested console type details are not accessible")
    console = {"instance_uuid": info["instance_uuid"], "host": info["host"],
               "port": info["port"],
               "internal_access_path": info.get("internal_access_path")}
    if req.ver >= (2, 99):
        console["tls_port"] = None
    return wsgi.Reply(200, {"console": console})
