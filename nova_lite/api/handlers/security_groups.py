"""A server's security groups, which are its Neutron ports' groups:
GET /servers/{id}/os-security-groups and the addSecurityGroup / removeSecurityGroup
actions."""

from __future__ import annotations

from typing import Any

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import networking as schema

RULE = "os_compute_api:os-security-groups:%s"
ACTIONS = {"addSecurityGroup": "add", "removeSecurityGroup": "remove"}


def _rule_view(rule: dict, group: dict) -> dict:
    """A Neutron rule in Nova's security_group_rules shape."""
    out: dict[str, Any] = {
        "id": rule["id"], "parent_group_id": group["id"],
        "ip_protocol": rule.get("protocol"), "from_port": rule.get("port_range_min"),
        "to_port": rule.get("port_range_max"), "group": {}, "ip_range": {}}
    if rule.get("protocol") in (None, "icmp") and out["from_port"] is None:
        out["from_port"] = out["to_port"] = -1 if rule.get("protocol") == "icmp" else None
    if rule.get("remote_group_id"):
        out["group"] = {"name": group["name"] if rule["remote_group_id"] == group["id"]
                        else rule["remote_group_id"], "tenant_id": group.get("project_id")}
    elif rule.get("remote_ip_prefix"):
        out["ip_range"] = {"cidr": rule["remote_ip_prefix"]}
    return out


def _group_view(group: dict) -> dict:
    rules = [r for r in group.get("security_group_rules", [])
             if r.get("direction") == "ingress"]
    return {"id": group["id"], "name": group["name"],
            "description": group.get("description", ""),
            "tenant_id": group.get("project_id") or group.get("tenant_id"),
            "rules": [_rule_view(r, group) for r in rules]}


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % "list", {"project_id": inst.project_id})
    if req.network is None or not req.network.enabled:
        return wsgi.Reply(200, {"security_groups": []})
    groups = req.network.instance_security_groups(inst.uuid)
    return wsgi.Reply(200, {"security_groups": [_group_view(g) for g in groups]})


def action(req: wsgi.ApiRequest, server_id: str, key: str, body: dict) -> wsgi.Reply:
    """POST /servers/{id}/action with addSecurityGroup or removeSecurityGroup."""
    validation.validate(schema.security_group_action(key), body)
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % ACTIONS[key], {"project_id": inst.project_id})
    if req.network is None or not req.network.enabled:
        raise exception.NetworkingUnavailable()
    name = body[key]["name"].strip()
    if key == "addSecurityGroup":
        req.network.add_security_group(inst.uuid, inst.project_id, name)
    else:
        req.network.remove_security_group(inst.uuid, inst.project_id, name)
    return wsgi.Reply(202)
