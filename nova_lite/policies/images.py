"""Rules for the /images proxy: any authenticated user may ask; the image service decides
what the caller may see or delete (the caller's own token reaches it)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

rules = [
    policy.DocumentedRuleDefault(
        name="os_compute_api:images:index", check_str=base.ANY_AUTHENTICATED,
        description="List images.",
        operations=[{"method": "GET", "path": "/images"},
                    {"method": "GET", "path": "/images/detail"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:images:show", check_str=base.ANY_AUTHENTICATED,
        description="Show one image.",
        operations=[{"method": "GET", "path": "/images/{image_id}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:images:delete", check_str=base.ANY_AUTHENTICATED,
        description="Delete an image.",
        operations=[{"method": "DELETE", "path": "/images/{image_id}"}],
        scope_types=["project"]),
]


def list_rules() -> list:
    return rules
