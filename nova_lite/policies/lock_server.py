"""Rules for locking servers: owners and admins lock and unlock; only an admin may
unlock a server someone else (an admin) locked."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-lock-server:%s"


def _rule(name: str, check: str, action: str, description: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=PREFIX % name, check_str=check, description=description,
        operations=[{"method": "POST", "path": f"/servers/{{server_id}}/action ({action})"}],
        scope_types=["project"])


rules = [
    _rule("lock", base.PROJECT_MEMBER_OR_ADMIN, "lock", "Lock a server."),
    _rule("unlock", base.PROJECT_MEMBER_OR_ADMIN, "unlock", "Unlock a server."),
    _rule("unlock:unlock_override", base.ADMIN, "unlock",
          "Unlock a server locked by someone else (locked_by admin)."),
]


def list_rules() -> list:
    return rules
