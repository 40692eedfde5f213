"""The server_groups, server_group_members and metadata_items quotas of server groups
and builds, counted by the quota engine in the API database."""

from __future__ import annotations

import types

import pytest

from nova_lite import exception, objects
from nova_lite.conductor.quota import QuotaEngine
from nova_lite.conductor.server_groups import ServerGroupMixin
from nova_lite.conf import CONF
from nova_lite.db import engine as db_engine

objects.register_all()
from nova_lite.objects.request_spec import RequestSpec  # noqa: E402
from tests.db.test_cells_instances import new_instance  # noqa: E402


class Groups(ServerGroupMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.quota = QuotaEngine(api_url, None)


@pytest.fixture
def limits():
    done = []

    def _set(**values: int) -> None:
        for name, value in values.items():
            CONF.set_override(name, value, "quota")
            done.append(name)

    yield _set
    for name in done:
        CONF.clear_override(name, "quota")


def ctx(user: str = "u1") -> types.SimpleNamespace:
    return types.SimpleNamespace(project_id="p1", user_id=user)


def test_server_groups_quota(api_url: str, limits) -> None:
    limits(server_groups=2)
    groups = Groups(api_url)
    groups.server_group_create(ctx(), "a", "affinity", {})
    groups.server_group_create(ctx("u2"), "b", "affinity", {})
    with pytest.raises(exception.QuotaError) as err:
        groups.server_group_create(ctx(), "c", "affinity", {})
    assert err.value.format_message() == "Quota exceeded, too many server groups."
    assert err.value.code == 403
    other = types.SimpleNamespace(project_id="p2", user_id="u9")
    groups.server_group_create(other, "d", "affinity", {})  # another project's count


def test_members_and_metadata_quota_in_the_build_step(api_url: str, limits) -> None:
    limits(server_group_members=2, metadata_items=1)
    groups = Groups(api_url)
    g = groups.server_group_create(ctx(), "g", "anti-affinity", {})
    spec = RequestSpec(project_id="p1", user_id="u1", instance_group=g)
    db_engine.run_in_transaction(api_url, lambda s: groups._group_add_members(
        s, spec, ["a", "b"]))
    with pytest.raises(exception.QuotaError) as err:
        db_engine.run_in_transaction(api_url, lambda s: groups._group_add_members(
            s, spec, ["c"]))
    assert err.value.format_message() == "Quota exceeded, too many servers in group"
    inst = new_instance(metadata={"a": "1"})
    db_engine.run_in_transaction(api_url, lambda s: groups._check_metadata_items(s, inst))
    inst = new_instance(metadata={"a": "1", "b": "2"})
    with pytest.raises(exception.MetadataLimitExceeded):
        db_engine.run_in_transaction(api_url, lambda s: groups._check_metadata_items(s, inst))
