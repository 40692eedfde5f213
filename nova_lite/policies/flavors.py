"""Rules for flavors: anyone authenticated may read them (and their extra specs), only
admins manage them, their extra specs and who may use a private one."""

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
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-flavor-manage:update", check_str=base.ADMIN,
        description="Update a flavor's description (2.55).",
        operations=[{"method": "PUT", "path": "/flavors/{flavor_id}"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-flavor-access", check_str=base.ADMIN,
        description="List the projects that may use a private flavor.",
        operations=[{"method": "GET", "path": "/flavors/{flavor_id}/os-flavor-access"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-flavor-access:add_tenant_access", check_str=base.ADMIN,
        description="Let a project use a private flavor.",
        operations=[{"method": "POST",
                     "path": "/flavors/{flavor_id}/action (addTenantAccess)"}],
        scope_types=["project"]),
    policy.DocumentedRuleDefault(
        name="os_compute_api:os-flavor-access:remove_tenant_access", check_str=base.ADMIN,
        description="Stop a project from using a private flavor.",
        operations=[{"method": "POST",
                     "path": "/flavors/{flavor_id}/action (removeTenantAccess)"}],
        scope_types=["project"]),
]

_SPECS = "/flavors/{flavor_id}/os-extra_specs"
for _op, _check, _method, _path, _what in (
        ("index", base.ANY_AUTHENTICATED, "GET", _SPECS, "List a flavor's extra specs."),
        ("show", base.ANY_AUTHENTICATED, "GET", _SPECS + "/{key}",
         "Show one extra spec of a flavor."),
        ("create", base.ADMIN, "POST", _SPECS, "Create or update extra specs of a flavor."),
        ("update", base.ADMIN, "PUT", _SPECS + "/{key}", "Update one extra spec of a flavor."),
        ("delete", base.ADMIN, "DELETE", _SPECS + "/{key}",
         "Delete one extra spec of a flavor.")):
    rules.append(policy.DocumentedRuleDefault(
        name=f"os_compute_api:os-flavor-extra-specs:{_op}", check_str=_check,
        description=_what, operations=[{"method": _method, "path": _path}],
        scope_types=["project"]))


def list_rules() -> list:
    return rules
