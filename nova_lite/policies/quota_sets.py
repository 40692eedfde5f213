"""Rules for quota sets, quota classes and /limits.

A project's readers may see its limits and usage; only admins set or reset them. The
defaults and one's own /limits are open to anyone authenticated.
"""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

QS = "os_compute_api:os-quota-sets:%s"
QCS = "os_compute_api:os-quota-class-sets:%s"
PATH = "/os-quota-sets/{tenant_id}"

rules = [
    policy.DocumentedRuleDefault(
        name=QS % "show", check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show a project's (or a user's) quota limits.",
        operations=[{"method": "GET", "path": PATH}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=QS % "detail", check_str=base.PROJECT_READER_OR_ADMIN,
        description="Show a project's (or a user's) quota limits with their usage.",
        operations=[{"method": "GET", "path": PATH + "/detail"}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=QS % "defaults", check_str=base.ANY_AUTHENTICATED,
        description="Show the default quota limits.",
        operations=[{"method": "GET", "path": PATH + "/defaults"}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=QS % "update", check_str=base.ADMIN,
        description="Set a project's (or a user's) quota limits.",
        operations=[{"method": "PUT", "path": PATH}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=QS % "delete", check_str=base.ADMIN,
        description="Revert a project's (or a user's) quota limits to the defaults.",
        operations=[{"method": "DELETE", "path": PATH}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=QCS % "show", check_str="rule:context_is_admin or quota_class:%(quota_class)s",
        description="Show a quota class (the defaults are class 'default').",
        operations=[{"method": "GET", "path": "/os-quota-class-sets/{quota_class}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name=QCS % "update", check_str=base.ADMIN,
        description="Set a quota class's limits.",
        operations=[{"method": "PUT", "path": "/os-quota-class-sets/{quota_class}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:limits", check_str=base.ANY_AUTHENTICATED,
        description="Show one's own project's absolute limits and usage.",
        operations=[{"method": "GET", "path": "/limits"}], scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:limits:other_project", check_str=base.ADMIN,
        description="Show another project's limits (GET /limits?tenant_id=...).",
        operations=[{"method": "GET", "path": "/limits"}], scope_types=["project"]),
]


def list_rules() -> list:
    return rules
