"""Rules for usage reports: a project's readers see its own, admins every project's."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-simple-tenant-usage:%s"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % "show", check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show one project's usage over a time window.",
        operations=[{"method": "GET", "path": "/os-simple-tenant-usage/{tenant_id}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "list", check_str=base.ADMIN,
        description="Show every project's usage over a time window.",
        operations=[{"method": "GET", "path": "/os-simple-tenant-usage"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
