"""SchedulerManager.select_destinations against a small in-memory conductor."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from nova_lite import exception, objects

objects.register_all()
from nova_lite.objects.flavor import Flavor  # noqa: E402
from nova_lite.objects.provider import ProviderSummary  # noqa: E402
from nova_lite.objects.request_spec import RequestSpec  # noqa: E402
from nova_lite.scheduler.host_state import changes_from_summaries  # noqa: E402
from nova_lite.scheduler.manager import SchedulerManager  # noqa: E402

CELL = str(uuid.uuid4())


class FakeConductor:
    """Providers and allocations in memory, with placement's claim semantics."""

    def __init__(self) -> None:
        self.providers: dict[str, dict] = {}  # uuid -> provider
        self.allocations: dict[str, tuple[str, dict]] = {}  # consumer -> (rp uuid, res)
        self.races: list[str] = []  # host names whose next claim loses a race
        self.claims: list[tuple[str, str]] = []  # (host, consumer) of successful claims
        self.released: list[str] = []
        self.summary_calls = 0
        self.many_calls: list[int] = []  # claims per claim_resources_many call

    def add_host(self, name: str, vcpus: int = 8, ram: int = 8192, disk: int = 100,
                 cell: str | None = CELL, up: bool = True, disabled: bool = False) -> str:
        rp = str(uuid.uuid4())
        inv = {"VCPU": (vcpus, 0, 1.0), "MEMORY_MB": (ram, 0, 1.0), "DISK_GB": (disk, 0, 1.0)}
        self.providers[rp] = dict(uuid=rp, name=name, cell=cell, up=up, disabled=disabled,
                                  inv=inv, generation=0)
        return rp

    def _used(self, rp: str, rc: str) -> int:
        return sum(r.get(rc, 0) for p, r in self.allocations.values() if p == rp)

    def provider_summaries(self, ctx: Any) -> list[ProviderSummary]:
        self.summary_calls += 1
        return [ProviderSummary(
            uuid=p["uuid"], name=p["name"], host=p["name"], cell_uuid=p["cell"],
            generation=p["generation"], service_up=p["up"], service_disabled=p["disabled"],
            resources={rc: {"total": t, "reserved": r, "allocation_ratio": a,
                            "used": self._used(p["uuid"], rc)}
                       for rc, (t, r, a) in p["inv"].items()})
            for p in self.providers.values()]

    def provider_summaries_changed(self, ctx: Any, known: dict) -> dict:
        return changes_from_summaries(self.provider_summaries(ctx), known)

    def claim_resources(self, ctx: Any, provider_uuid: str, consumer_id: str,
                        resources: dict, required_traits: list | None = None,
                        forbidden_traits: list | None = None,
                        build_lease: str | None = None) -> int:
        p = self.providers[provider_uuid]
        if p["name"] in self.races:
            self.races.remove(p["name"])
            raise exception.ResourceClaimConflict(provider=provider_uuid)
        for rc, amount in resources.items():
            total, reserved, ratio = p["inv"][rc]
            if amount > 0 and self._used(provider_uuid, rc) + amount > (total - reserved) * ratio:
                raise exception.ResourceClaimConflict(provider=provider_uuid)
        self.allocations[consumer_id] = (provider_uuid, dict(resources))
        p["generation"] += 1
        self.claims.append((p["name"], consumer_id))
        return p["generation"]

    def claim_resources_many(self, ctx: Any, claims: list, resources: dict,
                             **kwargs: Any) -> list:
        """As the conductor's: each claim on its own, a refusal named, not raised."""
        self.many_calls.append(len(claims))
        out: list = []
        for rp, consumer in claims:
            try:
                self.claim_resources(ctx, rp, consumer, resources, **kwargs)
                out.append(None)
            except exception.ResourceClaimConflict as err:
                out.append(type(err).__name__)
        return out

    def release_resources(self, ctx: Any, consumer_id: str) -> None:
        self.released.append(consumer_id)
        self.allocations.pop(consumer_id, None)

    def host_of(self, consumer_id: str) -> str | None:
        alloc = self.allocations.get(consumer_id)
        return self.providers[alloc[0]]["name"] if alloc else None



@pytest.fixture
def conductor() -> FakeConductor:
    return FakeConductor()


@pytest.fixture
def scheduler(conductor: FakeConductor) -> SchedulerManager:
    return SchedulerManager(conductor=conductor)


def spec(vcpus: int = 1, ram: int = 1024, disk: int = 10, **extra: Any) -> RequestSpec:
    flavor = Flavor(id=1, flavorid="1", name="f", memory_mb=ram, vcpus=vcpus, root_gb=disk,
                    ephemeral_gb=0, swap=0, rxtx_factor=1.0, is_public=True, disabled=False,
                    description=None, extra_specs={})
    rs = RequestSpec(instance_uuid=str(uuid.uuid4()), project_id="p", flavor=flavor,
                     num_instances=1)
    for k, v in extra.items():
        setattr(rs, k, v)
    return rs


def uuids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_selects_and_claims_the_emptiest_host(conductor, scheduler) -> None:
    conductor.add_host("busy", ram=4096)
    rp = conductor.add_host("roomy", ram=16384)
    [u] = uuids(1)
    [sel] = scheduler.select_destinations(None, spec(), [u])
    assert (sel.instance_uuid, sel.host, sel.nodename, sel.provider_uuid, sel.cell_uuid) == (
        u, "roomy", "roomy", rp, CELL)
    assert conductor.claims == [("roomy", u)]


def test_instances_spread_over_hosts(conductor, scheduler) -> None:
    for name in ("c1", "c2", "c3"):
        conductor.add_host(name)
    ids = uuids(6)
    sels = scheduler.select_destinations(None, spec(ram=1024), ids)
    assert [s.instance_uuid for s in sels] == ids
    counts = {h: sum(s.host == h for s in sels) for h in ("c1", "c2", "c3")}
    assert counts == {"c1": 2, "c2": 2, "c3": 2}


def test_stacks_with_negative_ram_multiplier(conductor, set_conf) -> None:
    set_conf("ram_weight_multiplier", -1.0, "filter_scheduler")
    set_conf("cpu_weight_multiplier", 0.0, "filter_scheduler")
    conductor.add_host("c1")
    conductor.add_host("c2")
    sels = SchedulerManager(conductor=conductor).select_destinations(None, spec(), uuids(3))
    assert len({s.host for s in sels}) == 1


def test_no_valid_host_releases_everything_claimed(conductor, scheduler) -> None:
    conductor.add_host("c1", ram=4096)
    conductor.add_host("c2", ram=4096)
    ids = uuids(3)  # two of 3 GiB fit, the third does not
    with pytest.raises(exception.NoValidHost) as err:
        scheduler.select_destinations(None, spec(ram=3072), ids)
    assert sorted(conductor.released) == sorted(ids[:2])
    assert conductor.allocations == {}
    msg = err.value.format_message()
    assert msg.startswith("No valid host was found. 2 host(s) considered, 2 rejected.")
    assert "insufficient MEMORY_MB (requested 3072 MiB of RAM, most free on any of them " \
           "1024)" in msg


@pytest.mark.parametrize("kwargs,reason", [
    ({"cell": None}, "not mapped to a cell"),
    ({"up": False}, "compute service is down"),
    ({"disabled": True}, "compute service is disabled"),
    ({"vcpus": 0}, "insufficient VCPU"),
    ({"disk": 5}, "insufficient DISK_GB"),
])
def test_no_valid_host_reason_per_filter(conductor, scheduler, kwargs: dict,
                                         reason: str) -> None:
    conductor.add_host("c1", **kwargs)
    with pytest.raises(exception.NoValidHost) as err:
        scheduler.select_destinations(None, spec(), uuids(1))
    assert "1 host(s) considered, 1 rejected. c1: " in str(err.value)
    assert reason in str(err.value)
    assert conductor.claims == [] and conductor.released == []


def test_no_hosts_at_all(scheduler) -> None:
    with pytest.raises(exception.NoValidHost, match="There are no compute hosts"):
        scheduler.select_destinations(None, spec(), uuids(1))


def test_lost_claim_race_moves_to_the_next_host(conductor, scheduler) -> None:
    conductor.add_host("best", ram=16384)
    conductor.add_host("next", ram=8192)
    conductor.races = ["best"]  # another scheduler filled it between read and claim
    [u] = uuids(1)
    [sel] = scheduler.select_destinations(None, spec(), [u])
    assert sel.host == "next" and conductor.host_of(u) == "next"
    assert conductor.summary_calls == 1


def test_lost_races_on_every_host_read_again(conductor, scheduler) -> None:
    conductor.add_host("c1")
    conductor.add_host("c2")
    conductor.races = ["c1", "c2"]  # the first round loses everywhere
    [sel] = scheduler.select_destinations(None, spec(), uuids(1))
    assert sel.host in ("c1", "c2")


def test_gives_up_after_max_attempts(conductor, set_conf) -> None:
    set_conf("max_attempts", 2, "scheduler")
    set_conf("host_view_max_age", 0, "scheduler")  # read the hosts for every attempt
    conductor.add_host("c1")
    scheduler = SchedulerManager(conductor=conductor)
    earlier = str(uuid.uuid4())
    scheduler.select_destinations(None, spec(), [earlier])
    conductor.races = ["c1"] * 3  # the next two attempts both lose (and one more)
    first, second = uuids(2)
    with pytest.raises(exception.NoValidHost, match="claimed by concurrent requests"):
        scheduler.select_destinations(None, spec(), [first, second])
    assert conductor.summary_calls == 1 + 2
    assert conductor.host_of(earlier) == "c1"  # claims of earlier requests stay
    assert conductor.host_of(first) is None and conductor.host_of(second) is None


def test_concurrent_loss_on_a_later_instance_releases_the_earlier(conductor,
                                                                  set_conf) -> None:
    set_conf("max_attempts", 1, "scheduler")
    conductor.add_host("c1")
    scheduler = SchedulerManager(conductor=conductor)
    first, second = uuids(2)
    real_claim = conductor.claim_resources

    def claim(ctx: Any, rp: str, consumer: str, res: dict, **traits: Any) -> int:
        if consumer == second:
            raise exception.ResourceClaimConflict(provider=rp)
        return real_claim(ctx, rp, consumer, res, **traits)

    conductor.claim_resources = claim
    with pytest.raises(exception.NoValidHost):
        scheduler.select_destinations(None, spec(), [first, second])
    assert conductor.released == [first] and conductor.allocations == {}


def test_ignore_and_force_hosts(conductor, scheduler) -> None:
    for name in ("c1", "c2", "c3"):
        conductor.add_host(name)
    [sel] = scheduler.select_destinations(None, spec(force_hosts=["c2"]), uuids(1))
    assert sel.host == "c2"
    sels = scheduler.select_destinations(None, spec(ignore_hosts=["c1", "c2"]), uuids(2))
    assert {s.host for s in sels} == {"c3"}
    with pytest.raises(exception.NoValidHost) as err:
        scheduler.select_destinations(None, spec(ignore_hosts=["c1", "c2", "c3"]), uuids(1))
    assert "ignored by the request" in str(err.value)


def test_enabled_filters_come_from_config(conductor, set_conf) -> None:
    set_conf("enabled_filters", ["ResourceFilter"], "filter_scheduler")
    conductor.add_host("down", up=False)
    [sel] = SchedulerManager(conductor=conductor).select_destinations(None, spec(), uuids(1))
    assert sel.host == "down"


def test_host_subset_size_picks_among_the_best(conductor, set_conf) -> None:
    set_conf("host_subset_size", 2, "filter_scheduler")
    set_conf("cpu_weight_multiplier", 0.0, "filter_scheduler")  # rank by RAM alone
    conductor.add_host("a", ram=16384)
    conductor.add_host("b", ram=16000)
    conductor.add_host("small", ram=2048)
    scheduler = SchedulerManager(conductor=conductor)
    for u in uuids(6):
        [sel] = scheduler.select_destinations(None, spec(ram=64), [u])
        assert sel.host in ("a", "b")


def test_host_view_is_reused_and_follows_own_claims(conductor, set_conf) -> None:
    set_conf("host_view_max_age", 60, "scheduler")
    for h in ("c1", "c2"):
        conductor.add_host(h)
    scheduler = SchedulerManager(conductor=conductor)
    batch = uuids(4)
    for u in batch:
        scheduler.select_destinations(None, spec(), [u])
    assert conductor.summary_calls == 1  # one read served the whole burst
    hosts = sorted(conductor.host_of(u) for u in batch)
    assert hosts == ["c1", "c1", "c2", "c2"]  # local consumption kept the spread even


def test_hosts_changed_drops_the_cached_view(conductor, set_conf) -> None:
    """An operator's disable reaches the next choice, however young the cached view."""
    set_conf("host_view_max_age", 3600, "scheduler")
    conductor.add_host("c1")
    conductor.add_host("c2")
    scheduler = SchedulerManager(conductor=conductor)
    scheduler.select_destinations(None, spec(), uuids(1))
    for p in conductor.providers.values():
        p["disabled"] = True
    scheduler.hosts_changed(None)
    with pytest.raises(exception.NoValidHost) as err:
        scheduler.select_destinations(None, spec(), uuids(1))
    assert "compute service is disabled" in str(err.value)


def test_a_batch_is_chosen_on_the_view_and_claimed_in_one_call(conductor, scheduler
                                                                ) -> None:
    for name in ("c1", "c2", "c3"):
        conductor.add_host(name)
    ids = uuids(6)
    sels = scheduler.select_destinations(None, spec(), ids)
    assert conductor.many_calls == [6] and conductor.summary_calls == 1
    assert [s.instance_uuid for s in sels] == ids
    assert sorted(conductor.host_of(u) for u in ids) == ["c1", "c1", "c2", "c2", "c3", "c3"]


def test_a_refused_claim_of_a_batch_is_chosen_again_alone(conductor, scheduler) -> None:
    """The claim lost a race with another scheduler: that instance is chosen again on a
    fresh view; the others' claims stand."""
    for name in ("c1", "c2"):
        conductor.add_host(name)
    conductor.races = ["c1"]
    ids = uuids(4)
    sels = scheduler.select_destinations(None, spec(), ids)
    assert [s.instance_uuid for s in sels] == ids
    assert all(conductor.host_of(u) == s.host for u, s in zip(ids, sels))
    assert conductor.many_calls == [4] and conductor.summary_calls == 2
    assert len(conductor.claims) == 4 and conductor.released == []


def test_a_batch_short_of_room_claims_what_fits_then_releases_it(conductor, scheduler
                                                                  ) -> None:
    conductor.add_host("c1", ram=4096)
    ids = uuids(3)  # two of 2 GiB fit
    with pytest.raises(exception.NoValidHost, match="insufficient MEMORY_MB"):
        scheduler.select_destinations(None, spec(ram=2048), ids)
    assert conductor.many_calls == [2]
    assert sorted(conductor.released) == sorted(ids[:2]) and conductor.allocations == {}


def test_static_filter_answers_follow_a_new_view(conductor, set_conf) -> None:
    """Answers kept per view (here: a host's cell) are asked again on the next read."""
    set_conf("host_view_max_age", 3600, "scheduler")
    rp = conductor.add_host("c1", cell=None)
    scheduler = SchedulerManager(conductor=conductor)
    with pytest.raises(exception.NoValidHost, match="not mapped to a cell"):
        scheduler.select_destinations(None, spec(), uuids(1))
    conductor.providers[rp]["cell"] = CELL  # discover_hosts mapped it
    scheduler.hosts_changed(None)
    [sel] = scheduler.select_destinations(None, spec(), uuids(1))
    assert sel.host == "c1"


def test_concurrent_requests_choose_while_a_claim_is_in_flight(conductor, scheduler
                                                               ) -> None:
    """The view is taken before the claim and the lock is not held across it: a
    request chooses while another's claim is in flight, and chooses another host; its
    claim waits for that call and is sent next."""
    import threading
    import time as time_mod

    for name in ("c1", "c2"):
        conductor.add_host(name)
    real_claim = conductor.claim_resources

    def claim(*args: Any, **kwargs: Any) -> int:
        if not conductor.allocations:  # the first: hold it until the second queued
            deadline = time_mod.monotonic() + 10
            while not scheduler._claims._pending and time_mod.monotonic() < deadline:
                time_mod.sleep(0.01)
        return real_claim(*args, **kwargs)

    conductor.claim_resources = claim
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(
        scheduler.select_destinations(None, spec(), uuids(1))[0].host)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert sorted(results) == ["c1", "c2"] and len(conductor.allocations) == 2


def test_claims_queued_behind_a_call_go_together_each_answered(conductor, scheduler
                                                              ) -> None:
    """Claims that arrive while a conductor call is under way go in one
    claim_resources_many call; each request learns its own outcome (a refused one
    chooses again)."""
    import threading
    import time as time_mod

    for name in ("c1", "c2", "c3", "c4"):
        conductor.add_host(name)
    scheduler.select_destinations(None, spec(), uuids(1))  # the view is read
    real_claim = conductor.claim_resources
    held = threading.Event()

    def claim(*args: Any, **kwargs: Any) -> int:
        if not held.is_set():
            held.set()
            deadline = time_mod.monotonic() + 10
            while len(scheduler._claims._pending) < 3 and time_mod.monotonic() < deadline:
                time_mod.sleep(0.01)
        return real_claim(*args, **kwargs)

    conductor.claim_resources = claim
    conductor.races.append("c4")  # whichever request chose c4 loses once
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(
        scheduler.select_destinations(None, spec(), uuids(1))[0])) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(results) == 4 and 3 in conductor.many_calls
    assert {sel.instance_uuid for sel in results} <= set(conductor.allocations)
    assert all(conductor.allocations[s.instance_uuid][0] == s.provider_uuid for s in results)


def test_an_old_view_is_read_again_in_the_background(conductor, set_conf) -> None:
    """Older than host_view_max_age, the view serves the next choice at once while a
    read goes on in the background; that read then becomes the view."""
    import threading
    import time as time_mod

    set_conf("host_view_max_age", 0.05, "scheduler")
    conductor.add_host("c1")
    scheduler = SchedulerManager(conductor=conductor)
    scheduler.select_destinations(None, spec(), uuids(1))
    release = threading.Event()
    real = conductor.provider_summaries

    def slow(ctx: Any) -> list:
        release.wait(10)
        return real(ctx)

    conductor.provider_summaries = slow
    rp2 = conductor.add_host("c2", ram=65536)  # only the next read shows it
    time_mod.sleep(0.1)
    [sel] = scheduler.select_destinations(None, spec(), uuids(1))  # does not wait
    assert sel.host == "c1"
    release.set()
    deadline = time_mod.monotonic() + 10
    while scheduler._refreshing and time_mod.monotonic() < deadline:
        time_mod.sleep(0.01)
    [sel] = scheduler.select_destinations(None, spec(), uuids(1))
    assert sel.provider_uuid == rp2


def test_an_idle_schedulers_view_is_read_before_its_next_choice(conductor, set_conf) -> None:
    """After a pause longer than IDLE_AGES host_view_max_age (a host may have gone down
    meanwhile, and no claim refuses a down host), the next choice waits for a read."""
    import time as time_mod

    from nova_lite.scheduler import manager as manager_mod

    set_conf("host_view_max_age", 0.01, "scheduler")
    conductor.add_host("c1")
    scheduler = SchedulerManager(conductor=conductor)
    scheduler.select_destinations(None, spec(), uuids(1))
    rp2 = conductor.add_host("c2", ram=65536)  # only the next read shows it
    time_mod.sleep(0.01 * manager_mod.IDLE_AGES + 0.05)
    [sel] = scheduler.select_destinations(None, spec(), uuids(1))
    assert sel.provider_uuid == rp2
