"""Rules for graphical consoles: a server's members may open one; only admins may see
where a console token leads (hosts and ports are operator data)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-remote-consoles",
        check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Get a URL of a server's graphical console.",
        operations=[{"method": "POST", "path": "/servers/{server_id}/remote-consoles"},
                    {"method": "POST",
                     "path": "/servers/{server_id}/action (os-getVNCConsole)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-console-auth-tokens",
        check_str=base.ADMIN,
        description="Show the connection a console token leads to.",
        operations=[{"method": "GET", "path": "/os-console-auth-tokens/{console_token}"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
