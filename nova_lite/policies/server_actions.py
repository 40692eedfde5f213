"""Rules for the pause/unpause and suspend/resume server actions (project members)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base


def _action(name: str, action: str, description: str) -> policy.DocumentedRuleDefault:
    return policy.DocumentedRuleDefault(
        name=name, check_str=base.PROJECT_MEMBER_OR_ADMIN, description=description,
        operations=[{"method": "POST", "path": f"/servers/{{server_id}}/action ({action})"}],
        scope_types=["project"])


rules = [
    _action("os_compute_api:os-pause-server:pause", "pause", "Pause a server."),
    _action("os_compute_api:os-pause-server:unpause", "unpause", "Unpause a paused server."),
    _action("os_compute_api:os-suspend-server:suspend", "suspend", "Suspend a server."),
    _action("os_compute_api:os-suspend-server:resume", "resume", "Resume a suspended server."),
]


def list_rules() -> list:
    return rules
