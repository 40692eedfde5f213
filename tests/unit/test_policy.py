"""The default policy matrix (admin / member / reader / other project) and overrides."""

from __future__ import annotations

import time

import pytest
from oslo_config import cfg
from oslo_policy import opts as policy_opts

from nova_lite import exception, policies, policy
from nova_lite.context import RequestContext

PROJECT_A = "project-a-id"
PROJECT_B = "project-b-id"

ADMIN = RequestContext(user_id="admin", project_id="admin-project", roles=["admin"])
MEMBER_A = RequestContext(user_id="member-a", project_id=PROJECT_A, roles=["member"])
MEMBER_B = RequestContext(user_id="member-b", project_id=PROJECT_B, roles=["member"])
READER_A = RequestContext(user_id="reader-a", project_id=PROJECT_A, roles=["reader"])

# A server owned by project A; every server rule is checked against it.
SERVER_A = {"project_id": PROJECT_A, "user_id": "member-a"}

READ_SERVER = [
    "os_compute_api:servers:index",
    "os_compute_api:servers:detail",
    "os_compute_api:servers:show",
    "os_compute_api:os-instance-actions:list",
    "os_compute_api:os-instance-actions:show",
]
CHANGE_SERVER = [
    "os_compute_api:servers:create",
    "os_compute_api:servers:update",
    "os_compute_api:servers:delete",
    "os_compute_api:servers:reboot",
    "os_compute_api:servers:start",
    "os_compute_api:servers:stop",
    "os_compute_api:os-pause-server:pause",
    "os_compute_api:os-pause-server:unpause",
    "os_compute_api:os-suspend-server:suspend",
    "os_compute_api:os-suspend-server:resume",
    "os_compute_api:os-console-output",
]
ADMIN_ONLY = [
    "os_compute_api:servers:index:get_all_tenants",
    "os_compute_api:servers:detail:get_all_tenants",
    "os_compute_api:servers:show:host_status",
    "os_compute_api:os-instance-actions:events",
    "os_compute_api:os-extended-server-attributes",
    "os_compute_api:os-flavor-manage:create",
    "os_compute_api:os-flavor-manage:delete",
    "os_compute_api:os-services:list",
    "os_compute_api:os-hypervisors:list",
    "os_compute_api:os-hypervisors:list-detail",
    "os_compute_api:os-hypervisors:show",
    "os_compute_api:os-services:update",
    "os_compute_api:os-services:delete",
    "os_compute_api:os-hypervisors:uptime",
    "os_compute_api:os-hypervisors:search",
    "os_compute_api:os-hypervisors:servers",
    "os_compute_api:os-migrate-server:migrate_live",
    "os_compute_api:servers:migrations:force_complete",
    "os_compute_api:servers:migrations:delete",
    "os_compute_api:os-evacuate",
]
ANYONE = [
    "os_compute_api:flavors:index",
    "os_compute_api:flavors:show",
    "os_compute_api:images:index",
    "os_compute_api:images:show",
]

#              admin  member-a member-b reader-a
EXPECTED = {}
EXPECTED.update({r: (True, True, False, True) for r in READ_SERVER})
EXPECTED.update({r: (True, True, False, False) for r in CHANGE_SERVER})
EXPECTED.update({r: (True, False, False, False) for r in ADMIN_ONLY})
EXPECTED.update({r: (True, True, True, True) for r in ANYONE})

CONTEXTS = (ADMIN, MEMBER_A, MEMBER_B, READER_A)


@pytest.fixture
def policy_file(tmp_path):
    """A private config whose override file starts out missing."""
    conf = cfg.ConfigOpts()
    conf([], project="nova-lite-test", default_config_files=[], default_config_dirs=[])
    path = tmp_path / "policy.yaml"
    policy_opts.set_defaults(conf)  # registers [oslo_policy] so it can be overridden
    conf.set_override("policy_file", str(path), group="oslo_policy")
    policy.reset()
    policy.init(conf)
    yield path
    policy.reset()


def test_every_rule_the_api_uses_is_registered():
    names = {r.name for r in policies.list_rules()}
    assert set(EXPECTED) <= names


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_default_matrix(policy_file, rule):
    got = tuple(policy.check(ctx, rule, SERVER_A) for ctx in CONTEXTS)
    assert got == EXPECTED[rule], f"{rule}: admin/member-a/member-b/reader-a"


def test_authorize_raises_403_naming_the_action(policy_file):
    with pytest.raises(exception.PolicyNotAuthorized) as err:
        policy.authorize(READER_A, "os_compute_api:servers:delete", SERVER_A)
    assert err.value.code == 403
    assert err.value.format_message() == (
        "Policy doesn't allow os_compute_api:servers:delete to be performed.")
    policy.authorize(MEMBER_A, "os_compute_api:servers:delete", SERVER_A)


def test_default_target_is_the_callers_own_project(policy_file):
    assert policy.check(MEMBER_B, "os_compute_api:servers:create")
    policy.authorize(READER_A, "os_compute_api:servers:index")
    with pytest.raises(exception.PolicyNotAuthorized):
        policy.authorize(READER_A, "os_compute_api:servers:create")


def test_unregistered_rule_is_a_programming_error(policy_file):
    with pytest.raises(Exception, match="not been registered"):
        policy.authorize(ADMIN, "os_compute_api:no-such-rule")


def test_no_roles_no_access(policy_file):
    nobody = RequestContext(user_id="x", project_id=PROJECT_A, roles=[])
    assert not policy.check(nobody, "os_compute_api:servers:index", SERVER_A)
    assert policy.check(nobody, "os_compute_api:flavors:index")


def test_override_file_changes_one_rule(policy_file):
    rule = "os_compute_api:os-services:list"
    assert not policy.check(READER_A, rule)
    policy_file.write_text(f'"{rule}": "role:reader"\n')
    # A policy file that appears is noticed within RELOAD_EVERY seconds.
    deadline = time.monotonic() + policy.RELOAD_EVERY + 5
    while not policy.check(READER_A, rule):
        assert time.monotonic() < deadline, "the new policy file was not read"
        time.sleep(0.05)
    assert not policy.check(MEMBER_A, rule)
    # Only that rule changed.
    assert not policy.check(READER_A, "os_compute_api:servers:delete", SERVER_A)
    assert policy.check(MEMBER_A, "os_compute_api:servers:delete", SERVER_A)
    # An edit of the file in use applies to the very next check (oslo.policy notices it
    # by its mtime: let that move on coarse clocks).
    time.sleep(0.05)
    policy_file.write_text(f'"{rule}": "role:member"\n')
    assert policy.check(MEMBER_A, rule)
    assert not policy.check(READER_A, rule)


def test_sample_file_lists_every_rule():
    import pathlib

    sample = pathlib.Path(__file__).parents[2] / "etc" / "nova-lite" / "policy.yaml.sample"
    if not sample.exists():
        pytest.skip("policy.yaml.sample not generated yet")
    text = sample.read_text()
    for name in EXPECTED:
        assert f'"{name}"' in text
