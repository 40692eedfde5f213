"""Rule for the OS-EXT-SRV-ATTR:* fields, which expose hosts and so are admin-only."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-extended-server-attributes",
        check_str=base.ADMIN,
        description="Include OS-EXT-SRV-ATTR:host, instance_name and the like in servers.",
        operations=[{"method": "GET", "path": "/servers/{server_id}"},
                    {"method": "GET", "path": "/servers/detail"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
