"""A compute service reporting many nodes through the conductor: each node becomes its
own compute node and resource provider, in one transaction per database."""

from __future__ import annotations

import pytest

from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.compute_nodes import ComputeNodesMixin
from nova_lite.conductor.services import ServicesMixin
from nova_lite.db import placement as placement_db
from nova_lite.db import services as svc_db
from tests.db.test_cells_instances import node_values


class _Conductor(ComputeNodesMixin, ServicesMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)


@pytest.fixture
def env(api_url: str, mapped_cells: dict) -> dict:
    cell1 = mapped_cells["cell1"]
    sid = svc_db.service_heartbeat(cell1, "m1", "nova-compute", "compute")
    return {"api": api_url, "cell1": cell1, "cond": _Conductor(api_url), "sid": sid}


def _report(name: str, vcpus: int = 4) -> dict:
    return dict(node_values(name), vcpus=vcpus, traits=["COMPUTE_NODE"])


def test_many_nodes_in_one_report(env, backend):
    cond = env["cond"]
    names = ["m1"] + [f"m1-n{i:04d}" for i in range(1, 30)]
    nodes = cond.compute_nodes_update(None, "m1", env["sid"], [_report(n) for n in names])
    assert len({n["uuid"] for n in nodes}) == 30
    cns = {n.hypervisor_hostname: n for n in svc_db.compute_node_list(env["cell1"], 60, None)}
    assert set(cns) == set(names) and {n.host for n in cns.values()} == {"m1"}
    # The lean form os-hypervisors lists: the same fields, as plain dicts.
    rows = svc_db.compute_node_dicts(env["cell1"], 60, None)
    assert rows == [n.to_dict() for n in svc_db.compute_node_list(env["cell1"], 60, None)]
    assert all(r["service_up"] and r["service_host"] == "m1" for r in rows)
    rps = {p["name"]: p for p in placement_db.provider_summaries(env["api"])}
    assert set(rps) == set(names)
    for node in nodes:  # each provider is its compute node (same uuid), on host m1
        rp = next(p for p in rps.values() if p["uuid"] == node["uuid"])
        assert rp["host"] == "m1" and rp["resources"]["VCPU"]["total"] == 4
        assert "COMPUTE_NODE" in rp["traits"]

    # A later pass updates in place (an operator's CUSTOM_ trait stays), adds no rows.
    placement_db.provider_traits_set(env["api"], "m1-n0003", ["COMPUTE_NODE", "CUSTOM_X"])
    again = cond.compute_nodes_update(None, "m1", env["sid"],
                                      [_report(n, vcpus=8) for n in names])
    assert [n["uuid"] for n in again] == [n["uuid"] for n in nodes]
    rps = {p["name"]: p for p in placement_db.provider_summaries(env["api"])}
    assert {p["resources"]["VCPU"]["total"] for p in rps.values()} == {8}
    assert "CUSTOM_X" in rps["m1-n0003"]["traits"]


def test_one_node_through_the_single_call(env, backend):
    node = env["cond"].compute_node_update(None, "m1", env["sid"], _report("m1"))
    [rp] = placement_db.provider_summaries(env["api"])
    assert (rp["name"], rp["uuid"]) == ("m1", node["uuid"])
