"""Rules for key pairs: a user manages their own; admins anyone's (``user_id`` 2.10)."""

from __future__ import annotations

from oslo_policy import policy


PREFIX = "os_compute_api:os-keypairs:%s"
ADMIN_OR_OWNER = "rule:context_is_admin or user_id:%(user_id)s"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % "index", check_str=ADMIN_OR_OWNER,
        description="List a user's key pairs.",
        operations=[{"method": "GET", "path": "/os-keypairs"}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "create", check_str=ADMIN_OR_OWNER,
        description="Create or import a key pair for a user.",
        operations=[{"method": "POST", "path": "/os-keypairs"}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "show", check_str=ADMIN_OR_OWNER,
        description="Show one of a user's key pairs.",
        operations=[{"method": "GET", "path": "/os-keypairs/{keypair_name}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "delete", check_str=ADMIN_OR_OWNER,
        description="Delete one of a user's key pairs.",
        operations=[{"method": "DELETE", "path": "/os-keypairs/{keypair_name}"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
