"""Default policy of server groups, server metadata and tags, flavor extra specs and
access, availability zones and aggregates (admin / member-a / member-b / reader-a)."""

from __future__ import annotations

import pytest

from nova_lite import policies, policy
from tests.unit.test_policy import CONTEXTS, SERVER_A, policy_file  # noqa: F401

READ = (True, True, False, True)
CHANGE = (True, True, False, False)
ADMIN_ONLY = (True, False, False, False)
ANYONE = (True, True, True, True)

EXPECTED = {
    "os_compute_api:os-server-groups:index": READ,
    "os_compute_api:os-server-groups:show": READ,
    "os_compute_api:os-server-groups:create": CHANGE,
    "os_compute_api:os-server-groups:delete": CHANGE,
    "os_compute_api:os-server-groups:index:all_projects": ADMIN_ONLY,
    "os_compute_api:os-flavor-extra-specs:index": ANYONE,
    "os_compute_api:os-flavor-extra-specs:show": ANYONE,
    "os_compute_api:os-flavor-extra-specs:create": ADMIN_ONLY,
    "os_compute_api:os-flavor-extra-specs:update": ADMIN_ONLY,
    "os_compute_api:os-flavor-extra-specs:delete": ADMIN_ONLY,
    "os_compute_api:os-flavor-access": ADMIN_ONLY,
    "os_compute_api:os-flavor-access:add_tenant_access": ADMIN_ONLY,
    "os_compute_api:os-flavor-access:remove_tenant_access": ADMIN_ONLY,
    "os_compute_api:os-flavor-manage:update": ADMIN_ONLY,
    "os_compute_api:server-metadata:index": READ,
    "os_compute_api:server-metadata:show": READ,
    "os_compute_api:server-metadata:create": CHANGE,
    "os_compute_api:server-metadata:update": CHANGE,
    "os_compute_api:server-metadata:update_all": CHANGE,
    "os_compute_api:server-metadata:delete": CHANGE,
    "os_compute_api:os-server-tags:index": READ,
    "os_compute_api:os-server-tags:show": READ,
    "os_compute_api:os-server-tags:update": CHANGE,
    "os_compute_api:os-server-tags:update_all": CHANGE,
    "os_compute_api:os-server-tags:delete": CHANGE,
    "os_compute_api:os-server-tags:delete_all": CHANGE,
    "os_compute_api:os-availability-zone:list": ANYONE,
    "os_compute_api:os-availability-zone:detail": ADMIN_ONLY,
}
EXPECTED.update({f"os_compute_api:os-aggregates:{op}": ADMIN_ONLY for op in (
    "index", "create", "show", "update", "delete", "add_host", "remove_host",
    "set_metadata")})


def test_rules_are_registered() -> None:
    assert set(EXPECTED) <= {r.name for r in policies.list_rules()}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_default_matrix(policy_file, rule: str) -> None:  # noqa: F811
    got = tuple(policy.check(ctx, rule, SERVER_A) for ctx in CONTEXTS)
    assert got == EXPECTED[rule], f"{rule}: admin/member-a/member-b/reader-a"
