"""Scheduler filters, weighers and the NoValidHost explanation."""

from __future__ import annotations

import uuid

import pytest

from nova_lite import objects
from nova_lite.conf import CONF
from nova_lite.scheduler import filters, weights
from nova_lite.scheduler.manager import explain
from nova_lite.scheduler.request import HostRequest

objects.register_all()
from nova_lite.objects.provider import ProviderSummary  # noqa: E402

CELL = str(uuid.uuid4())


def res(total: float, used: float = 0, reserved: float = 0, ratio: float = 1.0) -> dict:
    return {"total": total, "reserved": reserved, "allocation_ratio": ratio, "used": used}


def host(name: str, vcpu: dict | None = None, ram: dict | None = None,
         disk: dict | None = None, cell: str | None = CELL, up: bool = True,
         disabled: bool = False) -> ProviderSummary:
    resources = {"VCPU": vcpu or res(8), "MEMORY_MB": ram or res(8192),
                 "DISK_GB": disk or res(100)}
    return ProviderSummary(uuid=str(uuid.uuid4()), name=name, host=name, cell_uuid=cell,
                           generation=1, resources=resources, service_up=up,
                           service_disabled=disabled)


WANT = HostRequest({"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1})



# -- ComputeFilter -------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,reason", [
    ({}, None),
    ({"cell": None}, "not mapped to a cell"),
    ({"cell": None, "up": False}, "not mapped to a cell"),  # the first fix to make
    ({"up": False}, "compute service is down"),
    ({"up": False, "disabled": True}, "compute service is down"),
    ({"disabled": True}, "compute service is disabled"),
])
def test_compute_filter(kwargs: dict, reason: str | None) -> None:
    got = filters.ComputeFilter().reject_reason(host("c1", **kwargs), WANT)
    if reason is None:
        assert got is None
    else:
        assert got.startswith(reason)


def test_compute_filter_names_the_operators_switches() -> None:
    f = filters.ComputeFilter()
    disabled = host("c1", disabled=True)
    disabled.service_disabled_reason = "disk swap"
    assert f.reject_reason(disabled, WANT) == "compute service is disabled (disk swap)"
    forced = host("c1", up=False, disabled=True)
    forced.service_forced_down = True
    assert f.reject_reason(forced, WANT) == "compute service is forced down"


def test_unmapped_host_reason_says_what_to_run() -> None:
    got = filters.ComputeFilter().reject_reason(host("c1", cell=None), WANT)
    assert "nova-lite-manage cell_v2 discover_hosts" in got


# -- ResourceFilter ------------------------------------------------------------------------

@pytest.mark.parametrize("rc", ["VCPU", "MEMORY_MB", "DISK_GB"])
@pytest.mark.parametrize("inv,fits", [
    (res(8), 8),
    (res(8, used=3), 5),
    (res(8, reserved=2), 6),
    (res(8, reserved=2, ratio=16.0), 96),
    (res(8, used=90, reserved=2, ratio=16.0), 6),
    (res(4096, reserved=512, ratio=1.5), 5376),
    (res(10, ratio=0.5), 5),
    (res(8, used=10), 0),  # over-committed after the ratio was lowered
])
def test_resource_filter_each_class(rc: str, inv: dict, fits: int) -> None:
    h = host("c1", **{{"VCPU": "vcpu", "MEMORY_MB": "ram", "DISK_GB": "disk"}[rc]: inv})
    flt = filters.ResourceFilter()
    if fits:
        assert flt.reject_reason(h, HostRequest({rc: fits})) is None
    assert flt.reject_reason(h, HostRequest({rc: fits + 1})) == f"insufficient {rc}"


def test_resource_filter_ignores_zero_and_rejects_unknown_classes() -> None:
    h = host("c1", disk=res(0))
    flt = filters.ResourceFilter()
    assert flt.reject_reason(h, HostRequest({"VCPU": 1, "DISK_GB": 0})) is None
    assert flt.reject_reason(h, HostRequest({"VCPU": 1, "DISK_GB": 1})) == "insufficient DISK_GB"
    assert flt.reject_reason(h, HostRequest({"PCI_DEVICE": 1})) == "insufficient PCI_DEVICE"


def test_get_filters() -> None:
    assert [f.name for f in filters.get_filters(["ResourceFilter", "ComputeFilter"])] == [
        "ResourceFilter", "ComputeFilter"]
    with pytest.raises(ValueError, match="RamFilter"):
        filters.get_filters(["ComputeFilter", "RamFilter"])


# -- weighers ------------------------------------------------------------------------------

def test_weigher_normalises_free_amounts() -> None:
    hosts = [host("a", ram=res(1000, used=1000)), host("b", ram=res(1000, used=500)),
             host("c", ram=res(1000))]
    assert weights.RAMWeigher().weigh(hosts) == [0.0, 0.5, 1.0]
    assert weights.CPUWeigher().weigh(hosts) == [0.0, 0.0, 0.0]  # all equal


def test_weigh_hosts_spreads_by_default() -> None:
    hosts = [host("full", ram=res(8192, used=8000)), host("empty"),
             host("half", ram=res(8192, used=4096))]
    ranked = weights.weigh_hosts(hosts, ["RAMWeigher", "CPUWeigher"], CONF)
    assert [h.name for _, h in ranked] == ["empty", "half", "full"]
    assert [w for w, _ in ranked] == sorted((w for w, _ in ranked), reverse=True)


def test_weigh_hosts_stacks_with_negative_multiplier(set_conf) -> None:
    set_conf("ram_weight_multiplier", -1.0, "filter_scheduler")
    hosts = [host("empty"), host("full", ram=res(8192, used=8000))]
    ranked = weights.weigh_hosts(hosts, ["RAMWeigher"], CONF)
    assert [h.name for _, h in ranked] == ["full", "empty"]


def test_weigh_hosts_combines_weighers_and_breaks_ties_by_name(set_conf) -> None:
    set_conf("cpu_weight_multiplier", 2.0, "filter_scheduler")
    hosts = [host("b"), host("a"),
             host("ram-rich-cpu-poor", vcpu=res(8, used=8), ram=res(65536))]
    ranked = weights.weigh_hosts(hosts, ["RAMWeigher", "CPUWeigher"], CONF)
    # CPU counts twice as much as RAM here, so the CPU-poor host goes last.
    assert [h.name for _, h in ranked] == ["a", "b", "ram-rich-cpu-poor"]
    assert weights.weigh_hosts(hosts, [], CONF)[0][0] == 0.0


# -- explain() -----------------------------------------------------------------------------

def test_explain_names_resource_amounts_and_counts() -> None:
    hosts = [host("c1", ram=res(4096, used=3072)), host("c2", ram=res(4096, used=2048)),
             host("c3", ram=res(65536), up=False)]
    rejections = {"c1": "ResourceFilter: insufficient MEMORY_MB",
                  "c2": "ResourceFilter: insufficient MEMORY_MB",
                  "c3": "ComputeFilter: compute service is down"}
    text = explain(hosts, rejections, {"VCPU": 1, "MEMORY_MB": 4096, "DISK_GB": 1})
    assert text.startswith("3 host(s) considered, 3 rejected.")
    assert ("c1, c2: ResourceFilter: insufficient MEMORY_MB (requested 4096 MiB of RAM, "
            "most free on any of them 2048).") in text
    assert "c3: ComputeFilter: compute service is down." in text


@pytest.mark.parametrize("rc,unit", [("VCPU", "vCPUs"), ("DISK_GB", "GiB of disk")])
def test_explain_units(rc: str, unit: str) -> None:
    hosts = [host("c1")]
    text = explain(hosts, {"c1": f"ResourceFilter: insufficient {rc}"}, {rc: 500})
    assert f"insufficient {rc} (requested 500 {unit}, most free on any of them " in text
    assert "1 host(s) considered, 1 rejected." in text


def test_explain_without_hosts_says_how_to_get_some() -> None:
    text = explain([], {}, WANT.resources)
    assert "no compute hosts" in text and "discover_hosts" in text


def test_explain_shortens_long_host_lists() -> None:
    hosts = [host(f"c{i:02d}", up=False) for i in range(12)]
    text = explain(hosts, {h.name: "ComputeFilter: compute service is down" for h in hosts},
                   WANT.resources)
    assert text.startswith("12 host(s) considered, 12 rejected.")
    assert "c00, c01, c02, c03, c04, c05, c06, c07 ...: ComputeFilter" in text
    assert "c08" not in text
