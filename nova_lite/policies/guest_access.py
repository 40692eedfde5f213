"""Rules for reaching into a guest: changePassword and trigger_crash_dump (the owner),
diagnostics (admins: they expose the hypervisor's view)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-admin-password", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Change a server's administrator password.",
        operations=[{"method": "POST",
                     "path": "/servers/{server_id}/action (changePassword)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:servers:trigger_crash_dump",
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Trigger a crash dump (NMI) in a server (2.17).",
        operations=[{"method": "POST",
                     "path": "/servers/{server_id}/action (trigger_crash_dump)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-server-diagnostics", check_str=base.ADMIN,
        description="Show a server's diagnostics.",
        operations=[{"method": "GET", "path": "/servers/{server_id}/diagnostics"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
