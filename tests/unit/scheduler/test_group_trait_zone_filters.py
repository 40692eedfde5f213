"""Server-group, trait, zone and aggregate filters and the soft-policy weighers, alone and
inside select_destinations."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from nova_lite import exception, objects
from nova_lite.conf import CONF
from nova_lite.scheduler import aggregate_specs, filters, weights
from nova_lite.scheduler.manager import SchedulerManager
from nova_lite.scheduler.request import HostRequest
from tests.unit.scheduler.test_filters_weights import host
from tests.unit.scheduler.test_scheduler_manager import FakeConductor, spec, uuids

objects.register_all()
from nova_lite.objects.instance_group import InstanceGroup  # noqa: E402

WANT = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}


def group(policy: str, hosts: dict | None = None, **rules: int) -> InstanceGroup:
    return InstanceGroup(uuid=str(uuid.uuid4()), name="g", project_id="p", policy=policy,
                         rules=rules, members=[], hosts=hosts or {})


def req(g: InstanceGroup | None = None, **kw: Any) -> HostRequest:
    return HostRequest(dict(WANT), group=g,
                       group_hosts=dict(g.hosts) if g is not None else {}, **kw)


# -- filters -------------------------------------------------------------------------------

def test_anti_affinity_filter_counts_members_per_host() -> None:
    flt = filters.ServerGroupAntiAffinityFilter()
    g = group("anti-affinity", {"c1": 1})
    assert flt.reject_reason(host("c2"), req(g)) is None
    reason = flt.reject_reason(host("c1"), req(g))
    assert reason == (f"already holds 1 member(s) of anti-affinity server group {g.uuid} "
                      "(max_server_per_host 1)")
    g2 = group("anti-affinity", {"c1": 1}, max_server_per_host=2)
    assert flt.reject_reason(host("c1"), req(g2)) is None
    assert flt.reject_reason(host("c1"), req(group("anti-affinity", {"c1": 2}),)) is not None
    # other policies and no group: not this filter's business
    assert flt.reject_reason(host("c1"), req(group("affinity", {"c1": 3}))) is None
    assert flt.reject_reason(host("c1"), req()) is None


def test_affinity_filter_follows_the_members() -> None:
    flt = filters.ServerGroupAffinityFilter()
    assert flt.reject_reason(host("c1"), req(group("affinity"))) is None  # first member
    g = group("affinity", {"c2": 2})
    assert flt.reject_reason(host("c2"), req(g)) is None
    assert flt.reject_reason(host("c1"), req(g)) == (
        f"not the host of affinity server group {g.uuid} (its members are on c2)")
    assert flt.reject_reason(host("c1"), req(group("soft-affinity", {"c2": 1}))) is None


def test_traits_filter() -> None:
    flt = filters.TraitsFilter()
    h = host("c1")
    h.traits = ["COMPUTE_NODE", "HW_CPU_X86_AVX2"]
    assert flt.reject_reason(h, req(required_traits=["HW_CPU_X86_AVX2"])) is None
    assert flt.reject_reason(h, req(required_traits=["CUSTOM_GPU", "HW_CPU_X86_AVX2"])) == (
        "lacks required trait(s) CUSTOM_GPU")
    assert flt.reject_reason(h, req(forbidden_traits=["HW_CPU_X86_AVX2"])) == (
        "has forbidden trait(s) HW_CPU_X86_AVX2")
    assert flt.reject_reason(host("c2"), req()) is None


def test_availability_zone_filter() -> None:
    flt = filters.AvailabilityZoneFilter()
    h = host("c1")
    h.availability_zone = "az1"
    assert flt.reject_reason(h, req()) is None
    assert flt.reject_reason(h, req(availability_zone="az1")) is None
    assert flt.reject_reason(h, req(availability_zone="az2")) == (
        "in availability zone az1, not the requested az2")


@pytest.mark.parametrize("have,wanted,ok", [
    ("true", "true", True), ("true", "false", False), ("4", "= 2", True),
    ("1", "= 2", False), ("2", "== 2", True), ("2", "!= 2", False), ("3", ">= 2", True),
    ("3", "<= 2", False), ("abc", "s== abc", True), ("abc", "s!= abc", False),
    ("b", "s< c", True), ("b", "s> c", False), ("ssd,nvme", "<in> nvme", True),
    ("ssd", "<in> nvme", False), ("a b c", "<all-in> a c", True),
    ("a b", "<all-in> a c", False), ("y", "<or> x <or> y", True), ("z", "<or> x <or> y", False),
    ("x", "= notanumber", False),
])
def test_aggregate_spec_operators(have: str, wanted: str, ok: bool) -> None:
    assert aggregate_specs.matches(have, wanted) is ok


def test_aggregate_instance_extra_specs_filter() -> None:
    flt = filters.AggregateInstanceExtraSpecsFilter()
    h = host("c1")
    h.aggregate_metadata = {"ssd": ["true"], "tier": ["gold", "silver"]}
    ok = {"aggregate_instance_extra_specs:ssd": "true", "tier": "silver",
          "hw:cpu_policy": "dedicated", "resources:VCPU": "1"}  # other scopes ignored
    assert flt.reject_reason(h, req(extra_specs=ok)) is None
    assert flt.reject_reason(h, req(extra_specs={"ssd": "false"})) == (
        "aggregate metadata ssd=true does not match false")
    assert flt.reject_reason(h, req(extra_specs={"gpu": "true"})) == (
        "no aggregate of the host sets gpu (the flavor wants true)")


# -- weighers ------------------------------------------------------------------------------

def test_soft_weighers() -> None:
    hosts = [host("c1"), host("c2"), host("c3")]
    soft = req(group("soft-affinity", {"c2": 2, "c3": 1}))
    ranked = weights.weigh_hosts(hosts, ["ServerGroupSoftAffinityWeigher"], CONF, soft)
    assert [h.name for _w, h in ranked] == ["c2", "c3", "c1"]
    anti = req(group("soft-anti-affinity", {"c1": 2, "c2": 1}))
    ranked = weights.weigh_hosts(hosts, ["ServerGroupSoftAntiAffinityWeigher"], CONF, anti)
    assert [h.name for _w, h in ranked] == ["c3", "c2", "c1"]
    # no group: neutral
    assert {w for w, _h in weights.weigh_hosts(
        hosts, ["ServerGroupSoftAffinityWeigher"], CONF, req())} == {0.0}


# -- select_destinations -------------------------------------------------------------------

class GroupConductor(FakeConductor):
    """Also refuses claims the way the database's group check does, for chosen hosts."""

    def __init__(self) -> None:
        super().__init__()
        self.group_refusals: list[str] = []
        self.traits: dict[str, list[str]] = {}

    def provider_summaries(self, ctx: Any) -> list:
        out = super().provider_summaries(ctx)
        for s in out:
            s.traits = self.traits.get(s.name, [])
        return out

    def claim_resources(self, ctx: Any, provider_uuid: str, consumer_id: str,
                        resources: dict, required_traits: list | None = None,
                        forbidden_traits: list | None = None,
                        build_lease: str | None = None) -> int:
        name = self.providers[provider_uuid]["name"]
        if name in self.group_refusals:
            self.group_refusals.remove(name)
            raise exception.GroupPolicyConflict(group="g", policy="anti-affinity", host=name)
        if not set(required_traits or ()) <= set(self.traits.get(name, [])):
            raise exception.TraitsConflict(provider=provider_uuid)
        return super().claim_resources(ctx, provider_uuid, consumer_id, resources)


@pytest.fixture
def gconductor() -> GroupConductor:
    return GroupConductor()


class ZoneConductor(GroupConductor):
    """Hosts c1, c2 in zone az1, the others in az2 (the conductor's host view)."""

    def provider_summaries(self, ctx: Any) -> list:
        out = super().provider_summaries(ctx)
        for s in out:
            s.availability_zone = "az1" if s.name in ("c1", "c2") else "az2"
        return out


@pytest.mark.parametrize("count", [1, 3])
def test_selections_carry_the_zone_the_host_was_chosen_in(count: int) -> None:
    """The conductor records the zone it is given, instead of reading the aggregates
    once per build."""
    conductor = ZoneConductor()
    for name in ("c1", "c2", "c3"):
        conductor.add_host(name)
    sels = SchedulerManager(conductor=conductor).select_destinations(
        None, spec(availability_zone="az2"), uuids(1))
    assert [(s.host, s.availability_zone) for s in sels] == [("c3", "az2")]
    sels = SchedulerManager(conductor=conductor).select_destinations(
        None, spec(), uuids(count))
    assert {s.availability_zone for s in sels} <= {"az1", "az2"}
    assert all(s.availability_zone == ("az2" if s.host == "c3" else "az1") for s in sels)
    primitive = sels[0].obj_to_primitive(target_version="1.0")
    assert "availability_zone" not in primitive["nova_lite_object.data"]


def test_anti_affinity_batch_spreads_then_explains(gconductor) -> None:
    for name in ("c1", "c2", "c3"):
        gconductor.add_host(name)
    g = group("anti-affinity")
    sels = SchedulerManager(conductor=gconductor).select_destinations(
        None, spec(instance_group=g), uuids(3))
    assert sorted(s.host for s in sels) == ["c1", "c2", "c3"]
    g = group("anti-affinity", {"c1": 1, "c2": 1, "c3": 1})
    with pytest.raises(exception.NoValidHost) as err:
        SchedulerManager(conductor=gconductor).select_destinations(
            None, spec(instance_group=g), uuids(1))
    msg = err.value.format_message()
    assert msg.startswith("No valid host was found. 3 host(s) considered, 3 rejected.")
    assert (f"c1, c2, c3: ServerGroupAntiAffinityFilter: already holds 1 member(s) of "
            f"anti-affinity server group {g.uuid}") in msg


def test_anti_affinity_max_server_per_host(gconductor) -> None:
    gconductor.add_host("c1")
    gconductor.add_host("c2")
    g = group("anti-affinity", max_server_per_host=2)
    sels = SchedulerManager(conductor=gconductor).select_destinations(
        None, spec(instance_group=g), uuids(4))
    assert sorted(s.host for s in sels) == ["c1", "c1", "c2", "c2"]
    assert len(gconductor.allocations) == 4


def test_affinity_batch_stays_together(gconductor) -> None:
    for name in ("c1", "c2", "c3"):
        gconductor.add_host(name)
    sels = SchedulerManager(conductor=gconductor).select_destinations(
        None, spec(instance_group=group("affinity")), uuids(3))
    assert len({s.host for s in sels}) == 1
    sels = SchedulerManager(conductor=gconductor).select_destinations(
        None, spec(instance_group=group("affinity", {"c3": 1})), uuids(2))
    assert {s.host for s in sels} == {"c3"}


def test_group_refusal_in_the_claim_moves_on(gconductor) -> None:
    """Another scheduler put a member on the best host between our read and our claim."""
    gconductor.add_host("c1", ram=16384)
    gconductor.add_host("c2", ram=8192)
    gconductor.group_refusals = ["c1"]
    [sel] = SchedulerManager(conductor=gconductor).select_destinations(
        None, spec(instance_group=group("anti-affinity")), uuids(1))
    assert sel.host == "c2"


def test_soft_anti_affinity_spreads_without_refusing(gconductor) -> None:
    gconductor.add_host("c1")
    gconductor.add_host("c2")
    sels = SchedulerManager(conductor=gconductor).select_destinations(
        None, spec(instance_group=group("soft-anti-affinity")), uuids(4))
    assert sorted(s.host for s in sels) == ["c1", "c1", "c2", "c2"]


def test_required_traits_and_resource_overrides(gconductor) -> None:
    gconductor.add_host("plain", ram=32768)
    gconductor.add_host("avx", ram=8192)
    gconductor.traits = {"avx": ["COMPUTE_NODE", "HW_CPU_X86_AVX2"]}
    rs = spec()
    rs.flavor.extra_specs = {"trait:HW_CPU_X86_AVX2": "required", "resources:VCPU": "0"}
    [sel] = SchedulerManager(conductor=gconductor).select_destinations(None, rs, uuids(1))
    assert sel.host == "avx"
    assert "VCPU" not in gconductor.allocations[sel.instance_uuid][1]
    rs.flavor.extra_specs = {"trait:CUSTOM_GPU": "required"}
    with pytest.raises(exception.NoValidHost) as err:
        SchedulerManager(conductor=gconductor).select_destinations(None, rs, uuids(1))
    assert "TraitsFilter: lacks required trait(s) CUSTOM_GPU" in err.value.format_message()
