"""Rules for operator actions on servers (os-resetState)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-admin-actions:reset_state", check_str=base.ADMIN,
        description="Reset a server's vm_state (active or error) and clear its task_state.",
        operations=[{"method": "POST",
                     "path": "/servers/{server_id}/action (os-resetState)"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
