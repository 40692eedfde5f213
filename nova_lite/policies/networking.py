"""Rules of the server resources that go through the network service: addresses (ips),
interfaces (os-interface), security groups, and the external events Neutron sends."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

SERVICE_OR_ADMIN = "rule:context_is_admin or role:service"


def _rule(name: str, check: str, description: str, method: str, path: str
          ) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{"method": method, "path": path}], scope_types=["project"])


rules = [
    _rule("os_compute_api:ips:index", base.PROJECT_READER_OR_ADMIN,
          "List a server's addresses.", "GET", "/servers/{server_id}/ips"),
    _rule("os_compute_api:ips:show", base.PROJECT_READER_OR_ADMIN,
          "Show a server's addresses on one network.", "GET",
          "/servers/{server_id}/ips/{network_label}"),
    _rule("os_compute_api:os-attach-interfaces:list", base.PROJECT_READER_OR_ADMIN,
          "List a server's port interfaces.", "GET", "/servers/{server_id}/os-interface"),
    _rule("os_compute_api:os-attach-interfaces:show", base.PROJECT_READER_OR_ADMIN,
          "Show one port interface of a server.", "GET",
          "/servers/{server_id}/os-interface/{port_id}"),
    _rule("os_compute_api:os-attach-interfaces:create", base.PROJECT_MEMBER_OR_ADMIN,
          "Attach a port interface to a server.", "POST",
          "/servers/{server_id}/os-interface"),
    _rule("os_compute_api:os-attach-interfaces:delete", base.PROJECT_MEMBER_OR_ADMIN,
          "Detach a port interface from a server.", "DELETE",
          "/servers/{server_id}/os-interface/{port_id}"),
    _rule("os_compute_api:os-security-groups:list", base.PROJECT_READER_OR_ADMIN,
          "List a server's security groups.", "GET",
          "/servers/{server_id}/os-security-groups"),
    _rule("os_compute_api:os-security-groups:add", base.PROJECT_MEMBER_OR_ADMIN,
          "Add a security group to a server's ports.", "POST",
          "/servers/{server_id}/action (addSecurityGroup)"),
    _rule("os_compute_api:os-security-groups:remove", base.PROJECT_MEMBER_OR_ADMIN,
          "Remove a security group from a server's ports.", "POST",
          "/servers/{server_id}/action (removeSecurityGroup)"),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-server-external-events:create", check_str=SERVICE_OR_ADMIN,
        description="Deliver external events (Neutron's network-vif-plugged, ...) to "
                    "servers' compute hosts.",
        operations=[{"method": "POST", "path": "/os-server-external-events"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
