"""Rules for a server's action history; the per-action events (with tracebacks) are admin-only."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-instance-actions:%s"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % "list", check_str=base.PROJECT_READER_OR_ADMIN,
        description="List a server's actions.",
        operations=[{"method": "GET", "path": "/servers/{server_id}/os-instance-actions"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "show", check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show one of a server's actions.",
        operations=[{"method": "GET",
                     "path": "/servers/{server_id}/os-instance-actions/{request_id}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "events", check_str=base.ADMIN,
        description="Include the action's events (host, traceback) when showing it.",
        operations=[{"method": "GET",
                     "path": "/servers/{server_id}/os-instance-actions/{request_id}"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
