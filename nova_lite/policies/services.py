"""Rules for os-services: the service list reveals hosts, and disabling, forcing down
or deleting a compute service changes where servers go, so admins only."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

PREFIX = "os_compute_api:os-services:%s"

rules = [
    policy.DocumentedRuleDefault(
        name=PREFIX % "list", check_str=base.ADMIN,
        description="List compute services.",
        operations=[{"method": "GET", "path": "/os-services"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "update", check_str=base.ADMIN,
        description="Update a compute service: enable or disable it (with a reason) "
                    "and set or unset forced down.",
        operations=[{"method": "PUT", "path": "/os-services/{service_id}"},
                    {"method": "PUT", "path": "/os-services/enable"},
                    {"method": "PUT", "path": "/os-services/disable"},
                    {"method": "PUT", "path": "/os-services/disable-log-reason"},
                    {"method": "PUT", "path": "/os-services/force-down"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=PREFIX % "delete", check_str=base.ADMIN,
        description="Delete a compute service (with its compute nodes, resource "
                    "providers and host mapping).",
        operations=[{"method": "DELETE", "path": "/os-services/{service_id}"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
