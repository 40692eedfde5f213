"""Rules for host aggregates (admins only) and availability zones (anyone may list them;
only admins see which hosts and services each holds)."""

from __future__ import annotations

from oslo_policy import policy

from nova_lite.policies import base

_AGG = "/os-aggregates"
_AZ = "/os-availability-zone"

rules = [
    policy.DocumentedRuleDefault(
        name=name, check_str=check, description=description,
        operations=[{"method": method, "path": path}], scope_types=["project"])
    for name, check, method, path, description in (
        ("os_compute_api:os-aggregates:index", base.ADMIN, "GET", _AGG,
         "List host aggregates."),
        ("os_compute_api:os-aggregates:create", base.ADMIN, "POST", _AGG,
         "Create a host aggregate."),
        ("os_compute_api:os-aggregates:show", base.ADMIN, "GET", _AGG + "/{aggregate_id}",
         "Show a host aggregate."),
        ("os_compute_api:os-aggregates:update", base.ADMIN, "PUT", _AGG + "/{aggregate_id}",
         "Rename a host aggregate or change its availability zone."),
        ("os_compute_api:os-aggregates:delete", base.ADMIN, "DELETE",
         _AGG + "/{aggregate_id}", "Delete an empty host aggregate."),
        ("os_compute_api:os-aggregates:add_host", base.ADMIN, "POST",
         _AGG + "/{aggregate_id}/action (add_host)", "Add a host to an aggregate."),
        ("os_compute_api:os-aggregates:remove_host", base.ADMIN, "POST",
         _AGG + "/{aggregate_id}/action (remove_host)", "Remove a host from an aggregate."),
        ("os_compute_api:os-aggregates:set_metadata", base.ADMIN, "POST",
         _AGG + "/{aggregate_id}/action (set_metadata)", "Set an aggregate's metadata."),
        ("os_compute_api:os-availability-zone:list", base.ANY_AUTHENTICATED, "GET", _AZ,
         "List availability zones."),
        ("os_compute_api:os-availability-zone:detail", base.ADMIN, "GET", _AZ + "/detail",
         "List availability zones with their hosts and services."),
    )
]


def list_rules() -> list:
    return rules
