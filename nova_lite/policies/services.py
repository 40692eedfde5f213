"""Rule for os-services: the compute service list reveals hosts, so admins only."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-services:list", check_str=base.ADMIN,
        description="List compute services.",
        operations=[{"method": "GET", "path": "/os-services"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
