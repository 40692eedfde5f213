"""Rules for a server's password as the guest posted it (encrypted with its key)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-server-password:%s"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % "show", check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show the encrypted password a server's guest posted.",
        operations=[{"method": "GET", "path": "/servers/{server_id}/os-server-password"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "clear", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Clear the password a server's guest posted (the guest's password "
                    "itself does not change).",
        operations=[{"method": "DELETE",
                     "path": "/servers/{server_id}/os-server-password"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
