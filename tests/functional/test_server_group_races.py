"""Concurrent boots into one server group through real daemons, with three scheduler
processes and two conductor workers deciding at once: an anti-affinity group never gets
two members on one host, an affinity group never gets two hosts."""

from __future__ import annotations

import collections
import concurrent.futures
import time
from typing import Iterator

import pytest

from tests.functional import harness
from tests.functional.conftest import require_services
from tests.functional.test_boot_flow import image_id

HOSTS = ("g1", "g2", "g3", "g4")


@pytest.fixture(scope="module")
def dep(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    require_services()
    d = harness.Deployment(str(tmp_path_factory.mktemp("groups")),
                           {h: {"vcpus": 8, "memory_mb": 8192} for h in HOSTS},
                           conductor_workers=2, extra_conf="[scheduler]\nworkers = 3\n")
    try:
        d.setup()
        yield d
    finally:
        d.teardown()


def _group(dep: harness.Deployment, policy: str) -> str:
    r = dep.post("/os-server-groups", {"server_group": {"name": policy, "policy": policy}},
                 headers={"OpenStack-API-Version": "compute 2.64"})
    assert r.status_code == 200, r.text
    return r.json()["server_group"]["id"]


def _boot_concurrently(dep: harness.Deployment, image: str, group: str, n: int) -> dict:
    def boot(i: int) -> str:
        r = dep.post("/servers", {"server": {"name": f"m{i}", "imageRef": image,
                                             "flavorRef": "42"},
                                  "os:scheduler_hints": {"group": group}})
        assert r.status_code == 202, r.text
        return r.json()["server"]["id"]

    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        ids = list(pool.map(boot, range(n)))
    return dep.wait_for_servers(ids, timeout=180)


def test_anti_affinity_members_never_share_a_host(dep, tmp_path_factory):
    image = image_id(dep, tmp_path_factory)
    group = _group(dep, "anti-affinity")
    servers = _boot_concurrently(dep, image, group, 8)
    active = [s for s in servers.values() if s["status"] == "ACTIVE"]
    errors = [s for s in servers.values() if s["status"] == "ERROR"]
    hosts = collections.Counter(s["OS-EXT-SRV-ATTR:host"] for s in active)
    assert sorted(hosts) == sorted(HOSTS) and set(hosts.values()) == {1}, hosts
    assert len(errors) == 4
    for s in errors:
        assert s["fault"]["message"].startswith("No valid host was found."), s["fault"]
        assert "anti-affinity server group" in s["fault"]["message"]
    r = dep.get(f"/os-server-groups/{group}")
    assert sorted(r.json()["server_group"]["members"]) == sorted(servers)
    ids = list(servers)
    for sid in ids:
        assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone(ids)
    # The record goes first, then its claims and membership (the same conductor call).
    deadline = time.monotonic() + 10
    while dep.get(f"/os-server-groups/{group}").json()["server_group"]["members"]:
        assert time.monotonic() < deadline, "deleted servers stay members of their group"
        time.sleep(0.2)


def test_affinity_members_all_land_together(dep, tmp_path_factory):
    image = image_id(dep, tmp_path_factory)
    group = _group(dep, "affinity")
    servers = _boot_concurrently(dep, image, group, 6)
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}, servers
    assert len({s["OS-EXT-SRV-ATTR:host"] for s in servers.values()}) == 1
    ids = list(servers)
    for sid in ids:
        dep.delete(f"/servers/{sid}")
    dep.wait_gone(ids)
