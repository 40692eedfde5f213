"""A batch ranked incrementally places every instance where the full pass per instance
would, and requests depending on the instances already placed take the full pass."""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest

from nova_lite import exception
from nova_lite.scheduler import ranking as ranking_mod
from nova_lite.scheduler.manager import SchedulerManager
from tests.unit.scheduler.test_group_trait_zone_filters import GroupConductor, group
from tests.unit.scheduler.test_scheduler_manager import spec, uuids


def _deployment(rng: random.Random) -> GroupConductor:
    """A random host set: sizes, usage, some down or disabled, some with a trait; or
    (one case in four) identical empty hosts, where every weight ties."""
    conductor = GroupConductor()
    identical = rng.random() < 0.25
    for n in range(rng.randint(1, 40)):
        name = f"h{n:02d}"
        if identical:
            conductor.add_host(name, vcpus=16, ram=16384, disk=200)
            continue
        rp = conductor.add_host(name, vcpus=rng.choice((4, 8, 16, 32)),
                                ram=rng.choice((4096, 8192, 16384, 32768)),
                                disk=rng.choice((40, 100, 400)),
                                up=rng.random() > 0.1, disabled=rng.random() < 0.1)
        if rng.random() < 0.5:
            conductor.traits[name] = ["HW_CPU_X86_AVX2"]
        inv = conductor.providers[rp]["inv"]
        used = {rc: rng.randint(0, total // 2) for rc, (total, _r, _a) in inv.items()}
        conductor.allocations[f"used-{name}"] = (rp, used)
    return conductor


def _run(seed: int, set_conf: Any) -> tuple[list, str, list]:
    """The selections (or NoValidHost's message) and the claims of one random batch."""
    rng = random.Random(seed)
    conductor = _deployment(rng)
    set_conf("host_view_max_age", 3600, "scheduler")
    set_conf("ram_weight_multiplier", rng.choice((1.0, 0.0, -1.0, 2.5)), "filter_scheduler")
    set_conf("cpu_weight_multiplier", rng.choice((1.0, 0.0, -0.5, 3.0)), "filter_scheduler")
    set_conf("host_subset_size", rng.choice((1, 1, 2, 3)), "filter_scheduler")
    flavor = dict(vcpus=rng.choice((1, 2, 4)), ram=rng.choice((512, 1024, 4096)),
                  disk=rng.choice((1, 10, 40)))
    if rng.random() < 0.3:
        flavor["extra_specs"] = {"trait:HW_CPU_X86_AVX2": "required"}
    request = spec(flavor["vcpus"], flavor["ram"], flavor["disk"])
    request.flavor.extra_specs = flavor.get("extra_specs", {})
    ids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(rng.randint(2, 60))]
    random.seed(seed)  # host_subset_size picks
    try:
        sels = SchedulerManager(conductor=conductor).select_destinations(None, request, ids)
        outcome, error = [(s.instance_uuid, s.host, s.provider_uuid) for s in sels], ""
    except exception.NoValidHost as err:
        outcome, error = [], err.format_message()
    names = {rp: p["name"] for rp, p in conductor.providers.items()}
    claims = [(h, c) for h, c in conductor.claims]
    return ([(u, h, names[rp]) for u, h, rp in outcome], error, claims)


@pytest.mark.parametrize("seed", range(60))
def test_incremental_batch_equals_the_full_pass(seed, set_conf, monkeypatch) -> None:
    taken = []
    real_taken = ranking_mod.BatchRanking.taken
    monkeypatch.setattr(ranking_mod.BatchRanking, "taken",
                        lambda self: taken.append(1) or real_taken(self))
    incremental = _run(seed, set_conf)
    full_pass_taken = len(taken)
    monkeypatch.setattr(ranking_mod, "applies", lambda *a: False)
    full = _run(seed, set_conf)
    assert incremental == full
    assert len(taken) == full_pass_taken  # the second run never ranked incrementally
    if len(incremental[2]) > 1:
        assert full_pass_taken > 0  # the first one did
    assert incremental[0] or incremental[1]


def test_the_ranking_follows_a_host_leaving_and_a_bound_moving(set_conf) -> None:
    """The emptiest host dropping to the next one's free RAM moves the RAM bound (every
    host weighed again); ties go by name; full hosts leave the candidates, and a batch
    larger than the room is refused."""
    set_conf("host_view_max_age", 3600, "scheduler")
    set_conf("cpu_weight_multiplier", 0.0, "filter_scheduler")
    conductor = GroupConductor()
    conductor.add_host("big", ram=6144)
    conductor.add_host("mid", ram=4096)
    conductor.add_host("small", ram=2048)
    scheduler = SchedulerManager(conductor=conductor)
    sels = scheduler.select_destinations(None, spec(ram=2048), uuids(6))
    assert [s.host for s in sels] == ["big", "big", "mid", "big", "mid", "small"]
    with pytest.raises(exception.NoValidHost):
        scheduler.select_destinations(None, spec(ram=2048), uuids(1))


def test_a_group_request_takes_the_full_pass(set_conf, monkeypatch) -> None:
    """Anti-affinity and soft anti-affinity depend on the members placed so far."""
    set_conf("host_view_max_age", 3600, "scheduler")
    set_conf("soft_anti_affinity_weight_multiplier", 10.0, "filter_scheduler")
    built = []
    real_init = ranking_mod.BatchRanking.__init__
    monkeypatch.setattr(ranking_mod.BatchRanking, "__init__",
                        lambda self, *a: built.append(1) or real_init(self, *a))
    conductor = GroupConductor()
    for name in ("c1", "c2", "c3"):
        conductor.add_host(name, ram=65536)
    conductor.add_host("roomy", vcpus=64, ram=262144)
    scheduler = SchedulerManager(conductor=conductor)
    sels = scheduler.select_destinations(None, spec(instance_group=group("anti-affinity")),
                                         uuids(4))
    assert sorted(s.host for s in sels) == ["c1", "c2", "c3", "roomy"]
    sels = scheduler.select_destinations(
        None, spec(instance_group=group("soft-anti-affinity")), uuids(4))
    assert len({s.host for s in sels}) == 4  # not all on the roomy host the RAM prefers
    assert built == []
    scheduler.select_destinations(None, spec(), uuids(2))
    assert built == [1]


def test_a_view_read_again_mid_batch_is_ranked_again(set_conf, monkeypatch) -> None:
    """An operator's change dropping the view between two instances of a batch: the
    next instance is chosen by a full pass on the new view."""
    set_conf("host_view_max_age", 3600, "scheduler")
    conductor = GroupConductor()
    conductor.add_host("c1", ram=16384)
    conductor.add_host("c2", ram=8192)
    scheduler = SchedulerManager(conductor=conductor)
    scheduler.select_destinations(None, spec(), uuids(1))  # the view is read
    real_taken = ranking_mod.BatchRanking.taken

    def taken(self: ranking_mod.BatchRanking) -> None:
        real_taken(self)
        conductor.providers[next(iter(conductor.providers))]["disabled"] = True  # c1
        scheduler.hosts_changed(None)

    monkeypatch.setattr(ranking_mod.BatchRanking, "taken", taken)
    sels = scheduler.select_destinations(None, spec(), uuids(3))
    assert [s.host for s in sels] == ["c1", "c2", "c2"]
