"""Rules for os-hypervisors: hosts and their capacity are operator data, admins only."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-hypervisors:%s"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % "list", check_str=base.ADMIN,
        description="List hypervisors.",
        operations=[{"method": "GET", "path": "/os-hypervisors"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "list-detail", check_str=base.ADMIN,
        description="List hypervisors with details.",
        operations=[{"method": "GET", "path": "/os-hypervisors/detail"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "statistics", check_str=base.ADMIN,
        description="Show the sum of every hypervisor's resources.",
        operations=[{"method": "GET", "path": "/os-hypervisors/statistics"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "show", check_str=base.ADMIN,
        description="Show one hypervisor.",
        operations=[{"method": "GET", "path": "/os-hypervisors/{hypervisor_id}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "uptime", check_str=base.ADMIN,
        description="Show a hypervisor host's uptime.",
        operations=[{"method": "GET", "path": "/os-hypervisors/{hypervisor_id}/uptime"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "search", check_str=base.ADMIN,
        description="Search hypervisors by hostname pattern (before 2.53).",
        operations=[{"method": "GET",
                     "path": "/os-hypervisors/{hypervisor_hostname_pattern}/search"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "servers", check_str=base.ADMIN,
        description="List the servers of hypervisors matching a hostname pattern "
                    "(before 2.53).",
        operations=[{"method": "GET",
                     "path": "/os-hypervisors/{hypervisor_hostname_pattern}/servers"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
