"""Rule for reading a server's console log.

Members only, not readers: the console may carry secrets printed at boot.
"""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-console-output",
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Show a server's console output.",
        operations=[{"method": "POST",
                     "path": "/servers/{server_id}/action (os-getConsoleOutput)"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
