"""Rules of the Placement API: operator-only by default, as Placement's own (it shows
and changes every host's capacity and every project's consumption)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

RP = "/resource_providers/{uuid}"
_RULES = (
    ("resource_providers:list", "GET", "/resource_providers", "List resource providers."),
    ("resource_providers:show", "GET", RP, "Show a resource provider."),
    ("resource_providers:inventories:list", "GET", RP + "/inventories",
     "List a provider's inventories."),
    ("resource_providers:inventories:show", "GET", RP + "/inventories/{resource_class}",
     "Show one inventory of a provider."),
    ("resource_providers:inventories:update", "PUT", RP + "/inventories",
     "Replace or update a provider's inventories."),
    ("resource_providers:inventories:delete", "DELETE", RP + "/inventories/{resource_class}",
     "Delete a provider's inventories."),
    ("resource_providers:usages", "GET", RP + "/usages", "Show a provider's usages."),
    ("resource_providers:aggregates:list", "GET", RP + "/aggregates",
     "List the aggregates a provider is a member of."),
    ("resource_providers:aggregates:update", "PUT", RP + "/aggregates",
     "Set the aggregates of a provider."),
    ("resource_providers:traits:list", "GET", RP + "/traits", "List a provider's traits."),
    ("resource_providers:traits:update", "PUT", RP + "/traits", "Set a provider's traits."),
    ("resource_providers:traits:delete", "DELETE", RP + "/traits",
     "Remove every trait of a provider."),
    ("resource_providers:allocations:list", "GET", RP + "/allocations",
     "List the allocations against a provider."),
    ("allocations:list", "GET", "/allocations/{consumer_uuid}",
     "Show a consumer's allocations."),
    ("allocations:update", "PUT", "/allocations/{consumer_uuid}",
     "Replace a consumer's allocations."),
    ("allocations:delete", "DELETE", "/allocations/{consumer_uuid}",
     "Delete a consumer's allocations."),
    ("usages", "GET", "/usages", "Show a project's (and user's) total usages."),
    ("traits:list", "GET", "/traits", "List traits."),
    ("traits:show", "GET", "/traits/{name}", "Check that a trait exists."),
    ("traits:update", "PUT", "/traits/{name}", "Create a custom trait."),
    ("traits:delete", "DELETE", "/traits/{name}", "Delete a custom trait."),
    ("resource_classes:list", "GET", "/resource_classes", "List resource classes."),
    ("resource_classes:show", "GET", "/resource_classes/{name}", "Show a resource class."),
    ("allocation_candidates:list", "GET", "/allocation_candidates",
     "List the providers that could satisfy a request."),
)

rules = [
    policy.DocumentedRuleDefault(
        name=f"placement:{name}", check_str=base.ADMIN, description=desc,
        operations=[{"method": method, "path": path}], scope_types=["project"])
    for name, method, path, desc in _RULES
]


def list_rules() -> list:
    return rules
