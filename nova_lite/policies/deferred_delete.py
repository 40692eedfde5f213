"""Rules for soft-deleted servers ([DEFAULT] reclaim_instance_interval > 0): restore one,
or delete it at once."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-deferred-delete:%s"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % "restore", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Restore a soft-deleted server.",
        operations=[{"method": "POST", "path": "/servers/{server_id}/action (restore)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "force", check_str=base.PROJECT_MEMBER_OR_ADMIN,
        description="Delete a (soft-deleted) server at once.",
        operations=[{"method": "POST", "path": "/servers/{server_id}/action (forceDelete)"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
