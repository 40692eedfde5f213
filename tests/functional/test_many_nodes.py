"""One compute service managing 50 nodes ([fake_driver] nodes): each node is its own
hypervisor and resource provider, and every server lands on, and claims from, the node
the scheduler chose."""

from __future__ import annotations

import collections
from typing import Iterator

import pytest

from tests.functional import accounting, harness
from tests.functional.conftest import require_services
from tests.functional.test_boot_flow import boot_many, delete_all, image_id

NODES = 50


@pytest.fixture(scope="module")
def fifty_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    """conductor, scheduler, API and one compute, m1, with 50 small nodes."""
    require_services()
    sizes = {"vcpus": 4, "memory_mb": 4096, "local_gb": 20, "nodes": NODES}
    dep = harness.Deployment(str(tmp_path_factory.mktemp("nodes")), {"m1": sizes})
    try:
        dep.setup()
        yield dep
    finally:
        dep.teardown()


def test_servers_land_on_the_chosen_nodes_of_one_service(fifty_nodes, tmp_path_factory):
    dep = fifty_nodes
    r = dep.get("/os-hypervisors/detail")
    assert r.status_code == 200, r.text
    hypervisors = r.json()["hypervisors"]
    names = {h["hypervisor_hostname"] for h in hypervisors}
    assert len(hypervisors) == NODES and len(names) == NODES
    assert {"m1", "m1-n0001", f"m1-n{NODES - 1:04d}"} <= names
    assert {h["service"]["host"] for h in hypervisors} == {"m1"}
    assert {h["vcpus"] for h in hypervisors} == {4}

    image = image_id(dep, tmp_path_factory)
    ids = boot_many(dep, 20, image, "1")
    servers = dep.wait_for_servers(ids)
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}, [
        s.get("fault") for s in servers.values() if s["status"] != "ACTIVE"]
    assert {s["OS-EXT-SRV-ATTR:host"] for s in servers.values()} == {"m1"}
    per_node = collections.Counter(s["OS-EXT-SRV-ATTR:hypervisor_hostname"]
                                   for s in servers.values())
    assert set(per_node) <= names and len(per_node) == 20, per_node  # spread: one each
    claims = accounting.allocations(dep)
    for sid, s in servers.items():
        assert (sid, s["OS-EXT-SRV-ATTR:hypervisor_hostname"]) in claims
    summary = accounting.assert_consistent(dep, expect_servers=20)
    assert len(summary["providers"]) == NODES

    delete_all(dep, ids)
    summary = accounting.assert_consistent(dep, expect_servers=0)
    assert not any(v for used in summary["providers"].values() for v in used.values())
