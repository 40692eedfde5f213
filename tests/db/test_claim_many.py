"""placement_bulk.claim_many: one request's claims in one transaction, each as atomic and as
checked as claim()'s."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from nova_lite import exception, objects
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.manager import ConductorManager
from nova_lite.db import cells, discovery, placement, placement_bulk
from nova_lite.db import services as svc_db
from tests.db.test_cells_instances import node_values
from tests.db.test_group_claims import members, providers
from tests.db.test_placement import _race, consumer, inv, make_provider, used

objects.register_all()
RES = {"VCPU": 1, "MEMORY_MB": 64}


def test_claims_in_one_call_and_names_each_refusal(api_url: str) -> None:
    small = make_provider(api_url, "small", VCPU=inv(1), MEMORY_MB=inv(1024))
    big = make_provider(api_url, "big", VCPU=inv(8), MEMORY_MB=inv(1024))
    a, b, c, d = (consumer() for _ in range(4))
    results = placement_bulk.claim_many(api_url, [(small, a), (small, b), (big, c), (big, d)],
                                   RES, required_traits=None)
    assert results == [None, "ResourceClaimConflict", None, None]
    assert used(api_url, "small")["VCPU"] == 1 and used(api_url, "big")["VCPU"] == 2
    assert placement.consumer_allocations(api_url, b) == {}
    # A required trait the provider lacks: that claim alone is refused, by its name.
    e = consumer()
    assert placement_bulk.claim_many(api_url, [(big, e)], RES, required_traits=[
        "HW_CPU_X86_AVX2"]) == ["TraitsConflict"]


def test_group_members_of_one_call_see_each_other(api_url: str) -> None:
    h0, h1 = providers(api_url, 2)
    _gid, (a, b, c) = members(api_url, "anti-affinity", 3)
    assert placement_bulk.claim_many(api_url, [(h0, a), (h0, b), (h1, c)], RES) == [
        None, "GroupPolicyConflict", None]
    _gid, (x, y) = members(api_url, "affinity", 2)
    # Claimed in provider order: whichever goes second is refused (not the same host).
    results = placement_bulk.claim_many(api_url, [(h1, x), (h0, y)], RES)
    assert sorted(results, key=str) == ["GroupPolicyConflict", None]


def test_a_superseded_lease_claims_nothing(api_url: str) -> None:
    rp = make_provider(api_url, "n1", VCPU=inv(8), MEMORY_MB=inv(4096))
    a, b = consumer(), consumer()
    stamp = datetime.utcnow().replace(microsecond=0) - timedelta(seconds=30)
    for c in (a, b):
        cells.build_request_create(api_url, c, "p", None, {}, {})
    assert sorted(cells.build_request_lease(api_url, [a, b], stamp, stamp)) == sorted([a, b])
    cells.build_request_delete(api_url, b)  # handed over (or deleted) meanwhile
    with pytest.raises(exception.ClaimSuperseded):
        placement_bulk.claim_many(api_url, [(rp, a), (rp, b)], RES, build_lease=stamp.isoformat())
    assert used(api_url, "n1")["VCPU"] == 0  # a's claim went with the transaction
    assert placement_bulk.claim_many(api_url, [(rp, a)], RES,
                                build_lease=stamp.isoformat()) == [None]


def test_taking_build_requests_leases_them_and_reads_the_first_spec(api_url: str) -> None:
    a, b, c = consumer(), consumer(), consumer()
    stamp = datetime.utcnow().replace(microsecond=0)
    for x in (a, b, c):
        cells.build_request_create(api_url, x, "p", None, {"n": x}, {"spec-of": x})
    assert cells.build_request_lease(api_url, [a], stamp - timedelta(seconds=60), stamp) == [a]
    taken, spec = cells.build_requests_take(api_url, [a, b, c, consumer()],
                                            stamp - timedelta(seconds=30), stamp)
    # a is leased by the other attempt; b and c are taken, in the order asked
    assert [t["instance"]["n"] for t in taken] == [b, c] and spec == {"spec-of": b}
    assert cells.build_requests_take(api_url, [b, c], stamp - timedelta(seconds=30),
                                     stamp) == ([], None)
    later = stamp + timedelta(seconds=60)
    assert [t["instance_uuid"] for t in cells.build_requests_take(
        api_url, [c, b], stamp + timedelta(seconds=1), later)[0]] == [c, b]


def test_hand_over_needs_the_build_request(api_url: str) -> None:
    a = consumer()
    cells.build_request_create(api_url, a, "p", None, {}, {})
    cell = cells.cell_create(api_url, "cell1", "none:///", "sqlite://")
    assert cells.hand_over(api_url, a, cell["uuid"]) is True
    assert cells.instance_mapping_get(api_url, a)["cell"]["uuid"] == cell["uuid"]
    assert cells.build_request_list(api_url, instance_uuids=[a]) == []
    b = consumer()
    cells.build_request_create(api_url, b, "p", None, {}, {})
    cells.build_request_delete(api_url, b)
    assert cells.hand_over(api_url, b, cell["uuid"]) is False
    assert cells.instance_mapping_get(api_url, b)["cell"] is None


def test_concurrent_batches_never_exceed_capacity(api_url: str) -> None:
    """Eight calls of four claims each over two providers with room for ten in all:
    exactly ten claims succeed, whatever the interleaving (no deadlock is reported)."""
    rps = [make_provider(api_url, f"r{i}", VCPU=inv(5), MEMORY_MB=inv(1 << 20))
           for i in range(2)]
    batches = [[(rps[(i + j) % 2], consumer()) for j in range(4)] for i in range(8)]
    results = _race(8, lambda i: placement_bulk.claim_many(api_url, batches[i], RES))
    assert not [r for r in results if isinstance(r, Exception)], results
    granted = sum(r.count(None) for r in results)
    assert granted == 10
    assert used(api_url, "r0")["VCPU"] == used(api_url, "r1")["VCPU"] == 5


def _conductor(api_url: str) -> ConductorManager:
    cond = ConductorManager.__new__(ConductorManager)  # only its database side
    cond.api_url = api_url
    cond.cells = CellDirectory(api_url, None)
    return cond


def test_the_scheduler_view_reads_only_what_changed(api_url: str, mapped_cells: dict
                                                     ) -> None:
    """Against the conductor on real databases: a later read of the host view sends only
    the providers whose generation moved (and says which went), the hosts' status
    whole; a batch is claimed in one call and the view then shows the claims."""
    cell1 = mapped_cells["cell1"]
    res = {"VCPU": inv(8), "MEMORY_MB": inv(8192), "DISK_GB": inv(100)}
    rps = {}
    for host in ("h1", "h2", "h3"):
        sid = svc_db.service_heartbeat(cell1, host, "nova-compute", "compute")
        node = svc_db.compute_node_update(cell1, host, sid, node_values(f"{host}.node"))
        rps[host] = placement.provider_ensure(api_url, f"{host}.node", host,
                                              mapped_cells["cell1_uuid"], res,
                                              uuid=node["uuid"])
    discovery.discover_hosts(api_url)
    cond = _conductor(api_url)
    first = cond.provider_summaries_changed(None, {})
    assert sorted(p["name"] for p in first["providers"]) == ["h1.node", "h2.node",
                                                            "h3.node"]
    assert first["hosts"]["h1"]["service_up"] is True
    assert first["hosts"]["h1"]["cell_uuid"] == mapped_cells["cell1_uuid"]
    known = {p["uuid"]: p["generation"] for p in first["providers"]}
    assert cond.provider_summaries_changed(None, known) == dict(
        first, providers=[], gone=[])
    placement.claim(api_url, rps["h2"], consumer(), RES)
    again = cond.provider_summaries_changed(None, dict(known, gone_uuid=3))
    assert [p["name"] for p in again["providers"]] == ["h2.node"]
    assert again["providers"][0]["resources"]["VCPU"]["used"] == 1
    assert again["gone"] == ["gone_uuid"]

    from nova_lite.objects.flavor import Flavor
    from nova_lite.objects.request_spec import RequestSpec
    from nova_lite.scheduler.manager import SchedulerManager

    flavor = Flavor(id=1, flavorid="1", name="f", memory_mb=1024, vcpus=1, root_gb=1,
                    ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True,
                    disabled=False, description=None, extra_specs={})
    spec = RequestSpec(instance_uuid=consumer(), project_id="p", flavor=flavor,
                       num_instances=6)
    scheduler = SchedulerManager(conductor=cond)
    ids = [consumer() for _ in range(6)]
    sels = scheduler.select_destinations(None, spec, ids)
    assert {s.host for s in sels} == {"h1", "h2", "h3"}
    for sel in sels:
        assert placement.consumer_allocations(api_url, sel.instance_uuid) == {
            sel.provider_uuid: {"VCPU": 1, "MEMORY_MB": 1024, "DISK_GB": 1}}
    view = scheduler._host_view(None, refresh=True)
    assert sum(8 - view.hosts[i].free("VCPU") for i in range(3)) == 7


def test_a_claim_replaces_what_its_consumer_held(api_url: str) -> None:
    """As claim(): a consumer's claim replaces its earlier allocation, which does not
    count against the provider it claims again."""
    full = make_provider(api_url, "full", VCPU=inv(1), MEMORY_MB=inv(1024))
    other = make_provider(api_url, "other", VCPU=inv(4), MEMORY_MB=inv(1024))
    a = consumer()
    placement.claim(api_url, full, a, RES)
    assert placement_bulk.claim_many(api_url, [(full, a)], RES) == [None]  # a replay
    assert used(api_url, "full")["VCPU"] == 1
    assert placement_bulk.claim_many(api_url, [(other, a)], RES) == [None]
    assert placement.consumer_allocations(api_url, a) == {other: RES}
    assert used(api_url, "full")["VCPU"] == 0


def test_batches_and_single_claims_race_without_overbooking(api_url: str) -> None:
    rp = make_provider(api_url, "shared", VCPU=inv(10), MEMORY_MB=inv(1 << 20))
    batches = [[(rp, consumer()) for _ in range(3)] for _ in range(4)]
    singles = [consumer() for _ in range(4)]

    def work(i: int) -> int:
        if i < 4:
            return placement_bulk.claim_many(api_url, batches[i], RES).count(None)
        try:
            placement.claim(api_url, rp, singles[i - 4], RES)
            return 1
        except exception.ResourceClaimConflict:
            return 0

    results = _race(8, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 10 == used(api_url, "shared")["VCPU"]
