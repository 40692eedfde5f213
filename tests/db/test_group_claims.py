"""Server-group policies and provider traits checked inside the atomic claim, including
claims racing from many threads (as several scheduler processes would)."""

from __future__ import annotations

import random
import uuid

import pytest

from nova_lite import exception
from nova_lite.db import placement
from nova_lite.db import server_groups as groups
from tests.db.test_placement import _race, consumer, inv, make_provider

RES = {"VCPU": 1, "MEMORY_MB": 64}


def providers(api_url: str, n: int) -> list[str]:
    return [make_provider(api_url, f"h{i}", VCPU=inv(64), MEMORY_MB=inv(1 << 20))
            for i in range(n)]


def members(api_url: str, policy: str, n: int, **rules: int) -> tuple[str, list[str]]:
    g = groups.group_create(api_url, "g", "p", "u", policy, rules)
    uuids = [consumer() for _ in range(n)]
    groups.members_add(api_url, g.uuid, uuids)
    return g.uuid, uuids


def test_anti_affinity_claims(api_url: str) -> None:
    h0, h1 = providers(api_url, 2)
    gid, (a, b, c) = members(api_url, "anti-affinity", 3)
    placement.claim(api_url, h0, a, RES)
    with pytest.raises(exception.GroupPolicyConflict) as err:
        placement.claim(api_url, h0, b, RES)
    assert f"anti-affinity policy of server group {gid}" in err.value.format_message()
    placement.claim(api_url, h1, b, RES)
    placement.claim(api_url, h0, a, RES)  # a claim replayed by the same member is fine
    assert groups.group_get(api_url, gid, with_hosts=True).hosts == {"h0": 1, "h1": 1}
    placement.release(api_url, a)  # a freed host takes a member again
    placement.claim(api_url, h0, c, RES)
    # not in any group: no policy
    placement.claim(api_url, h0, consumer(), RES)


def test_max_server_per_host_and_affinity(api_url: str) -> None:
    h0, h1 = providers(api_url, 2)
    _gid, uuids = members(api_url, "anti-affinity", 3, max_server_per_host=2)
    placement.claim(api_url, h0, uuids[0], RES)
    placement.claim(api_url, h0, uuids[1], RES)
    with pytest.raises(exception.GroupPolicyConflict):
        placement.claim(api_url, h0, uuids[2], RES)
    _gid, (a, b) = members(api_url, "affinity", 2)
    placement.claim(api_url, h1, a, RES)
    with pytest.raises(exception.GroupPolicyConflict):
        placement.claim(api_url, h0, b, RES)
    placement.claim(api_url, h1, b, RES)
    _gid, (s1, s2) = members(api_url, "soft-anti-affinity", 2)  # soft: never refused
    placement.claim(api_url, h0, s1, RES)
    placement.claim(api_url, h0, s2, RES)


def test_members_and_quota(api_url: str) -> None:
    gid, uuids = members(api_url, "affinity", 2)
    with pytest.raises(exception.QuotaError):
        groups.members_add(api_url, gid, [consumer()], max_members=2)
    assert groups.groups_of(api_url, uuids[0]) == [gid]
    assert groups.member_remove(api_url, uuids[0]) == 1
    assert groups.group_get(api_url, gid).members == uuids[1:]
    groups.group_delete(api_url, gid)
    assert groups.groups_of(api_url, uuids[1]) == []
    with pytest.raises(exception.InstanceGroupNotFound):
        groups.group_get(api_url, gid)
    with pytest.raises(exception.InstanceGroupNotFound):
        groups.members_add(api_url, str(uuid.uuid4()), [consumer()])


def test_traits_checked_in_the_claim(api_url: str) -> None:
    [h0] = providers(api_url, 1)
    assert placement.provider_traits_set(api_url, "h0", ["COMPUTE_NODE", "CUSTOM_FAST"])
    assert not placement.provider_traits_set(api_url, "h0", ["CUSTOM_FAST", "COMPUTE_NODE"])
    [summary] = placement.provider_summaries(api_url)
    assert summary["traits"] == ["COMPUTE_NODE", "CUSTOM_FAST"]
    placement.claim(api_url, h0, consumer(), RES, required_traits=["CUSTOM_FAST"])
    with pytest.raises(exception.TraitsConflict):
        placement.claim(api_url, h0, consumer(), RES, required_traits=["CUSTOM_GPU"])
    with pytest.raises(exception.TraitsConflict):
        placement.claim(api_url, h0, consumer(), RES, forbidden_traits=["CUSTOM_FAST"])
    gen = placement.provider_summaries(api_url)[0]["generation"]
    assert placement.provider_traits_set(api_url, "h0", ["COMPUTE_NODE"])
    assert placement.provider_summaries(api_url)[0]["generation"] == gen + 1
    placement.claim(api_url, h0, consumer(), RES, forbidden_traits=["CUSTOM_FAST"])


def _schedule(api_url: str, hosts: list[str], member: str, seed: int) -> str:
    """What one scheduler does: try the hosts in its own order until a claim succeeds."""
    order = list(hosts)
    random.Random(seed).shuffle(order)
    for rp in order:
        try:
            placement.claim(api_url, rp, member, RES)
            return rp
        except exception.GroupPolicyConflict:
            continue
    raise exception.NoValidHost(reason="every host refused")


@pytest.mark.parametrize("n_hosts,n_members", [(3, 12), (6, 6)])
def test_concurrent_anti_affinity_boots_never_share_a_host(api_url: str, n_hosts: int,
                                                            n_members: int) -> None:
    hosts = providers(api_url, n_hosts)
    for rnd in range(3):  # races differ run to run
        _gid, uuids = members(api_url, "anti-affinity", n_members)
        results = _race(n_members, lambda i, uuids=uuids, rnd=rnd: _schedule(  # noqa: B023
            api_url, hosts, uuids[i], seed=rnd * 100 + i))
        placed = [r for r in results if isinstance(r, str)]
        failed = [r for r in results if not isinstance(r, str)]
        assert all(isinstance(e, exception.NoValidHost) for e in failed), failed
        assert len(placed) == n_hosts and len(set(placed)) == n_hosts
        for member in uuids:  # free the hosts for the next round
            placement.release(api_url, member)


def test_concurrent_affinity_boots_end_on_one_host(api_url: str) -> None:
    hosts = providers(api_url, 4)
    _gid, uuids = members(api_url, "affinity", 8)
    results = _race(8, lambda i: _schedule(api_url, hosts, uuids[i], seed=i))
    assert all(isinstance(r, str) for r in results), results
    assert len(set(results)) == 1
