"""Rules for rescue and unrescue (the server's owner)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-rescue", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Rescue a server.",
        operations=[{"method": "POST", "path": "/servers/{server_id}/action (rescue)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-unrescue", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Unrescue a rescued server.",
        operations=[{"method": "POST", "path": "/servers/{server_id}/action (unrescue)"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
