"""GET /servers/{id}/ips[/{network}]: a server's addresses, from its network info cache."""

from __future__ import annotations

from nova_lite import policy
from nova_lite.api import wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.network import model


def _addresses(req: wsgi.ApiRequest, server_id: str, rule: str) -> dict:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, rule, {"project_id": inst.project_id})
    return model.addresses(model.loads(inst.get("network_info")), extended=False)


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    return wsgi.Reply(200, {"addresses": _addresses(req, server_id,
                                                    "os_compute_api:ips:index")})


def show(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    addresses = _addresses(req, server_id, "os_compute_api:ips:show")
    if id not in addresses:
        raise wsgi.not_found("Instance is not a member of specified network")
    return wsgi.Reply(200, {id: addresses[id]})
