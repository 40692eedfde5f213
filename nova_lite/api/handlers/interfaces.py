"""/servers/{id}/os-interface: a server's ports; attach (create or bind a port and
hot-plug it) and detach, carried out by the server's compute host."""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import networking as schema
from nova_lite.network import model

RULE = "os_compute_api:os-attach-interfaces:%s"


def _network(req: wsgi.ApiRequest) -> Any:
    if req.network is None or not req.network.enabled:
        raise exception.NetworkingUnavailable()
    return req.network


def _server(req: wsgi.ApiRequest, server_id: str, action: str) -> Any:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % action, {"project_id": inst.project_id})
    return inst


def _view(req: wsgi.ApiRequest, port: dict, tag: Optional[str]) -> dict:
    out = {"port_state": port.get("status"), "port_id": port["id"],
           "net_id": port.get("network_id"), "mac_addr": port.get("mac_address"),
           "fixed_ips": [{"subnet_id": ip.get("subnet_id"), "ip_address": ip["ip_address"]}
                         for ip in port.get("fixed_ips", [])]}
    if req.ver >= (2, 70):
        out["tag"] = tag
    return out


def _tags(inst: Any) -> dict[str, Any]:
    return {v["id"]: v.get("tag") for v in model.loads(inst.get("network_info"))}


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "list")
    if req.network is None or not req.network.enabled:
        return wsgi.Reply(200, {"interfaceAttachments": []})
    tags = _tags(inst)
    ports = req.network.instance_ports(inst.uuid)
    return wsgi.Reply(200, {"interfaceAttachments": [_view(req, p, tags.get(p["id"]))
                                                     for p in ports]})


def _attached_port(req: wsgi.ApiRequest, inst: Any, port_id: str) -> dict:
    try:
        port = _network(req).get_port(port_id, inst.project_id, True)
    except exception.PortNotFound:
        port = None
    if port is None or port.get("device_id") != inst.uuid:
        raise wsgi.not_found(f"Instance {inst.uuid} is not attached to port {port_id}.")
    return port


def show(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "show")
    port = _attached_port(req, inst, id)
    return wsgi.Reply(200, {"interfaceAttachment": _view(req, port, _tags(inst).get(id))})


def create(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    body = validation.body(req, schema.attach(req.ver)) if req.req.body else {}
    inst = _server(req, server_id, "create")
    network = _network(req)
    attachment = body.get("interfaceAttachment") or {}
    net_id, port_id = attachment.get("net_id"), attachment.get("port_id")
    fixed_ips = attachment.get("fixed_ips") or []
    fixed_ip = fixed_ips[0]["ip_address"] if fixed_ips else None
    if net_id and port_id:
        raise wsgi.bad_request("Must not input both network_id and port_id")
    if fixed_ip and not net_id:
        raise wsgi.bad_request("Must input network_id when request IP address")
    is_admin = bool(req.ctx.is_admin)
    if port_id:
        port = network.get_port(port_id, inst.project_id, is_admin)  # 404 when not found
        if port.get("device_id"):
            raise exception.PortInUse(port_id=port_id)
    elif net_id:
        network.get_network(net_id, inst.project_id, is_admin)
    vif = req.conductor.server_attach_interface(req.ctx, inst.uuid, net_id, port_id,
                                                fixed_ip, attachment.get("tag"))
    port = network.get_port(vif["id"], inst.project_id, True)
    return wsgi.Reply(200, {"interfaceAttachment": _view(req, port, vif.get("tag"))})


def delete(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "delete")
    _attached_port(req, inst, id)
    req.conductor.server_detach_interface(req.ctx, inst.uuid, id)
    return wsgi.Reply(202)
