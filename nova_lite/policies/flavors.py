"""Rules for flavors: anyone authenticated may read them, only admins manage them."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:flavors:index", check_str=base.ANY_AUTHENTICATED,
        description="List flavors.",
        operations=[{"method": "GET", "path": "/flavors"},
                    {"method": "GET", "path": "/flavors/detail"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:flavors:show", check_str=base.ANY_AUTHENTICATED,
        description="Show one flavor.",
        operations=[{"method": "GET", "path": "/flavors/{flavor_id}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-flavor-manage:create", check_str=base.ADMIN,
        description="Create a flavor.",
        operations=[{"method": "POST", "path": "/flavors"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-flavor-manage:delete", check_str=base.ADMIN,
        description="Delete a flavor.",
        operations=[{"method": "DELETE", "path": "/flavors/{flavor_id}"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
