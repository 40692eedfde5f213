"""Placement-style accounting: providers, inventories, atomic claims and releases."""

from __future__ import annotations

import threading
import uuid

import pytest

from nova_lite import exception
from nova_lite.db import placement

CELL = str(uuid.uuid4())


def inv(total: int, reserved: int = 0, ratio: float = 1.0) -> dict:
    return {"total": total, "reserved": reserved, "allocation_ratio": ratio}


def summary(api_url: str, name: str) -> dict:
    return next(p for p in placement.provider_summaries(api_url) if p["name"] == name)


def used(api_url: str, name: str) -> dict:
    return {rc: r["used"] for rc, r in summary(api_url, name)["resources"].items()}


def make_provider(api_url: str, name: str = "node1", **inventories: dict) -> str:
    inventories = inventories or {"VCPU": inv(4), "MEMORY_MB": inv(4096),
                                  "DISK_GB": inv(100)}
    return placement.provider_ensure(api_url, name, name, CELL, inventories)


def consumer() -> str:
    return str(uuid.uuid4())


def test_provider_ensure_creates_then_updates(api_url: str) -> None:
    rp = make_provider(api_url, VCPU=inv(8, 1, 16.0), MEMORY_MB=inv(4096, 512, 1.5))
    s = summary(api_url, "node1")
    assert s["uuid"] == rp and s["host"] == "node1" and s["cell_uuid"] == CELL
    assert s["resources"] == {
        "VCPU": {"total": 8, "reserved": 1, "allocation_ratio": 16.0, "used": 0},
        "MEMORY_MB": {"total": 4096, "reserved": 512, "allocation_ratio": 1.5, "used": 0}}
    gen = s["generation"]

    # Same inventory again: nothing changes, not even the generation.
    assert make_provider(api_url, VCPU=inv(8, 1, 16.0), MEMORY_MB=inv(4096, 512, 1.5)) == rp
    assert summary(api_url, "node1")["generation"] == gen

    # A changed total and a new resource class bump it once.
    make_provider(api_url, VCPU=inv(16, 1, 16.0), DISK_GB=inv(50))
    s = summary(api_url, "node1")
    assert s["generation"] == gen + 1
    assert s["resources"]["VCPU"]["total"] == 16
    assert s["resources"]["DISK_GB"]["total"] == 50
    assert s["resources"]["MEMORY_MB"]["total"] == 4096  # untouched


def test_provider_ensure_keeps_given_uuid_and_moves_cell(api_url: str) -> None:
    given = str(uuid.uuid4())
    assert placement.provider_ensure(api_url, "n", "h", None, {"VCPU": inv(1)},
                                     uuid=given) == given
    assert summary(api_url, "n")["cell_uuid"] is None
    placement.provider_ensure(api_url, "n", "h", CELL, {"VCPU": inv(1)})
    assert summary(api_url, "n")["cell_uuid"] == CELL
    placement.provider_ensure(api_url, "n", "h", None, {"VCPU": inv(1)})  # None keeps it
    assert summary(api_url, "n")["cell_uuid"] == CELL


@pytest.mark.parametrize("ratio", [1.1, 0.9, 1.5, 16.0])
def test_provider_ensure_is_stable_for_any_ratio(api_url: str, ratio: float) -> None:
    """Periodic reports of an unchanged host must not churn the generation."""
    make_provider(api_url, VCPU=inv(10, 0, ratio))
    gen = summary(api_url, "node1")["generation"]
    make_provider(api_url, VCPU=inv(10, 0, ratio))
    assert summary(api_url, "node1")["generation"] == gen


def test_provider_summaries_filters_hosts(api_url: str) -> None:
    make_provider(api_url, "a")
    make_provider(api_url, "b")
    assert {p["name"] for p in placement.provider_summaries(api_url)} == {"a", "b"}
    assert [p["name"] for p in placement.provider_summaries(api_url, ["b"])] == ["b"]
    assert placement.provider_summaries(api_url, ["nope"]) == []


def test_claim_and_release(api_url: str) -> None:
    rp = make_provider(api_url)
    gen = summary(api_url, "node1")["generation"]
    c = consumer()
    assert placement.claim(api_url, rp, c, {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 0}) == gen + 1
    assert used(api_url, "node1") == {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 0}
    assert placement.consumers_on_provider(api_url, "node1") == [c]
    assert placement.release(api_url, c) == 2  # DISK_GB 0 was never written
    assert used(api_url, "node1") == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert summary(api_url, "node1")["generation"] == gen + 2
    assert placement.release(api_url, c) == 0
    assert placement.consumers_on_provider(api_url, "node1") == []


@pytest.mark.parametrize("inventory,fits", [
    (inv(8), 8),
    (inv(8, reserved=2), 6),
    (inv(8, reserved=2, ratio=2.0), 12),
    (inv(4, reserved=1, ratio=16.0), 48),
    (inv(10, ratio=0.9), 9),
    (inv(10, ratio=1.1), 11),
    (inv(3, reserved=3, ratio=4.0), 0),
])
def test_capacity_is_total_minus_reserved_times_ratio(api_url: str, inventory: dict,
                                                      fits: int) -> None:
    rp = make_provider(api_url, VCPU=inventory)
    if fits:
        placement.claim(api_url, rp, consumer(), {"VCPU": fits})
    with pytest.raises(exception.ResourceClaimConflict):
        placement.claim(api_url, rp, consumer(), {"VCPU": 1})
    assert used(api_url, "node1")["VCPU"] == fits


def test_claim_checks_the_current_inventory(api_url: str) -> None:
    rp = make_provider(api_url, VCPU=inv(4))
    placement.claim(api_url, rp, consumer(), {"VCPU": 2})
    gen = summary(api_url, "node1")["generation"]
    make_provider(api_url, VCPU=inv(2))  # the host shrank
    assert summary(api_url, "node1")["generation"] == gen + 1
    with pytest.raises(exception.ResourceClaimConflict):
        placement.claim(api_url, rp, consumer(), {"VCPU": 1})
    make_provider(api_url, VCPU=inv(2, ratio=2.0))
    assert placement.claim(api_url, rp, consumer(), {"VCPU": 2}) == gen + 3


def test_claim_is_all_or_nothing(api_url: str) -> None:
    rp = make_provider(api_url)
    gen = summary(api_url, "node1")["generation"]
    with pytest.raises(exception.ResourceClaimConflict):  # VCPU fits, RAM does not
        placement.claim(api_url, rp, consumer(), {"VCPU": 1, "MEMORY_MB": 4097})
    with pytest.raises(exception.ResourceClaimConflict):  # no such inventory
        placement.claim(api_url, rp, consumer(), {"VCPU": 1, "PCI_DEVICE": 1})
    with pytest.raises(exception.ResourceClaimConflict):  # no such provider
        placement.claim(api_url, str(uuid.uuid4()), consumer(), {"VCPU": 1})
    assert used(api_url, "node1") == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert summary(api_url, "node1")["generation"] == gen


def test_claim_is_idempotent_per_consumer(api_url: str) -> None:
    rp = make_provider(api_url)
    c = consumer()
    for _ in range(3):
        placement.claim(api_url, rp, c, {"VCPU": 2, "MEMORY_MB": 512})
    assert used(api_url, "node1") == {"VCPU": 2, "MEMORY_MB": 512, "DISK_GB": 0}
    placement.claim(api_url, rp, c, {"VCPU": 1, "MEMORY_MB": 512})  # replaced, not added
    assert used(api_url, "node1")["VCPU"] == 1


def test_claim_replay_on_a_full_host_succeeds(api_url: str) -> None:
    """A retried claim (e.g. a repeated RPC) must not count the consumer twice."""
    rp = make_provider(api_url)
    c = consumer()
    placement.claim(api_url, rp, c, {"VCPU": 4, "MEMORY_MB": 4096})
    placement.claim(api_url, rp, c, {"VCPU": 4, "MEMORY_MB": 4096})
    assert used(api_url, "node1")["VCPU"] == 4
    with pytest.raises(exception.ResourceClaimConflict):
        placement.claim(api_url, rp, consumer(), {"VCPU": 1})


def test_claim_moves_consumer_between_providers(api_url: str) -> None:
    a, b = make_provider(api_url, "a"), make_provider(api_url, "b")
    c = consumer()
    placement.claim(api_url, a, c, {"VCPU": 3})
    placement.claim(api_url, b, c, {"VCPU": 3})
    assert used(api_url, "a")["VCPU"] == 0
    assert used(api_url, "b")["VCPU"] == 3
    assert placement.consumers_on_provider(api_url, "b") == [c]


def _race(n_threads: int, fn) -> list:
    """Run fn(i) in n_threads threads started together; return results or exceptions."""
    barrier = threading.Barrier(n_threads)
    results: list = [None] * n_threads

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as err:  # collected for the assertions
            results[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.parametrize("inventory,fits", [(inv(5), 5), (inv(4, reserved=1, ratio=2.0), 6)])
def test_concurrent_claims_never_exceed_capacity(api_url: str, inventory: dict,
                                                 fits: int) -> None:
    """16 simultaneous claims for distinct consumers: exactly the ones that fit succeed
    (a lost compare-and-swap is retried, not reported as a full host)."""
    for rnd in range(3):  # a few rounds: races are not the same every time
        name = f"race{rnd}"
        rp = make_provider(api_url, name, VCPU=inventory, MEMORY_MB=inv(1 << 20))
        consumers = [consumer() for _ in range(16)]
        results = _race(16, lambda i, rp=rp, consumers=consumers: placement.claim(
            api_url, rp, consumers[i], {"VCPU": 1, "MEMORY_MB": 64}))
        errors = [r for r in results if isinstance(r, Exception)]
        assert all(isinstance(e, exception.ResourceClaimConflict) for e in errors), errors
        assert len(results) - len(errors) == fits
        assert used(api_url, name) == {"VCPU": fits, "MEMORY_MB": 64 * fits}
        assert len(placement.consumers_on_provider(api_url, name)) == fits


def test_concurrent_claims_and_releases_stay_consistent(api_url: str) -> None:
    """Half the threads release earlier claims while the other half claim."""
    rp = make_provider(api_url, VCPU=inv(8))
    old = [consumer() for _ in range(8)]
    for c in old:
        placement.claim(api_url, rp, c, {"VCPU": 1})
    new = [consumer() for _ in range(8)]

    def work(i: int) -> object:
        if i % 2:
            return placement.release(api_url, old[i // 2])
        return placement.claim(api_url, rp, new[i // 2], {"VCPU": 1})

    _race(16, work)
    holders = placement.consumers_on_provider(api_url, "node1")
    assert used(api_url, "node1")["VCPU"] == len(holders) <= 8
    assert set(holders) <= set(new)  # every release went through


def test_a_superseded_build_attempt_cannot_claim(api_url: str) -> None:
    """A claim carrying an old attempt's lease (its reply lost in an outage, delivered
    late) is refused, and never moves the claim of the attempt that replaced it."""
    from datetime import datetime, timedelta

    from nova_lite.db import cells

    f1, f2 = make_provider(api_url, "f1"), make_provider(api_url, "f2")
    c = consumer()
    cells.build_request_create(api_url, c, "p", None, {}, {})
    first = datetime.utcnow().replace(microsecond=0) - timedelta(seconds=30)
    assert cells.build_request_lease(api_url, [c], first, first) == [c]
    placement.claim(api_url, f1, c, {"VCPU": 1}, build_lease=first.isoformat())

    second = first + timedelta(seconds=20)  # the retry takes the build over
    assert cells.build_request_lease(api_url, [c], second - timedelta(seconds=10),
                                     second) == [c]
    placement.claim(api_url, f2, c, {"VCPU": 1}, build_lease=second.isoformat())
    with pytest.raises(exception.ClaimSuperseded):
        placement.claim(api_url, f1, c, {"VCPU": 1}, build_lease=first.isoformat())
    assert used(api_url, "f1") == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    assert used(api_url, "f2")["VCPU"] == 1

    # Handed over (build request gone): even the last attempt's late claims are refused.
    cells.build_request_delete(api_url, c)
    with pytest.raises(exception.ClaimSuperseded):
        placement.claim(api_url, f1, c, {"VCPU": 1}, build_lease=second.isoformat())
    assert used(api_url, "f2")["VCPU"] == 1
