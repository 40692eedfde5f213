"""The Placement API behind Keystone, registered in the catalog as ``placement``, driven
by unmodified osc-placement against the real daemons: providers, inventories, usages
(equal to os-hypervisors'), allocations, candidates, traits and aggregates; and
``nova-lite-manage placement audit`` finding and deleting an orphaned allocation."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
import uuid
from typing import Iterator

import pytest
import requests

from tests.functional import harness
from tests.functional.keystone.conftest import Cloud, _setup_keystone

pytestmark = [pytest.mark.keystone, pytest.mark.slow]

OPENSTACK = os.path.join(os.path.dirname(sys.executable), "openstack")


@pytest.fixture(scope="module")
def placement(cloud: Cloud) -> Iterator[str]:
    """nova-lite-placement-api in the deployment, in the catalog (the cloud fixture
    holds the catalog lock for the whole package)."""
    dep = cloud.dep
    port = harness.free_port()
    conf = dep._write_conf("placement.conf", "[placement_api]\nlisten = 127.0.0.1\n"
                                             f"listen_port = {port}\nworkers = 4\n")
    dep.start_proc("placement", "nova-lite-placement-api", conf)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, dep.logs("placement")
        time.sleep(0.2)
    _setup_keystone(f"{dep.url}/v2.1", url)
    try:
        yield url
    finally:
        dep.stop_proc("placement")
        _setup_keystone(f"{dep.url}/v2.1")


def osc(cloud: Cloud, *args: str, who: str = "admin") -> subprocess.CompletedProcess:
    name = cloud.keystone.accounts[who].cloud
    return subprocess.run([OPENSTACK, "--os-cloud", name, *args],
                          env=cloud.keystone.env(name), capture_output=True, text=True,
                          timeout=120, check=False)


def ok(proc: subprocess.CompletedProcess) -> object:
    assert proc.returncode == 0, f"{proc.args}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout) if proc.stdout.strip() else None


def osc_all(cloud: Cloud, commands: dict[str, tuple]) -> dict[str, object]:
    """Independent osc calls at once (each is a second of client start-up)."""
    with concurrent.futures.ThreadPoolExecutor(len(commands)) as pool:
        futures = {k: pool.submit(osc, cloud, *cmd) for k, cmd in commands.items()}
        return {k: ok(f.result()) for k, f in futures.items()}


def _usage_matches(cloud: Cloud, providers: dict[str, str]) -> tuple[bool, str]:
    hyps = cloud.call("admin", "GET", "/os-hypervisors/detail").json()["hypervisors"]
    shown = osc_all(cloud, {h["hypervisor_hostname"]: (
        "resource", "provider", "usage", "show", providers[h["hypervisor_hostname"]],
        "-f", "json") for h in hyps})
    seen = []
    for h in hyps:
        usage = {r["resource_class"]: r["usage"] for r in shown[h["hypervisor_hostname"]]}
        want = {"VCPU": h["vcpus_used"], "MEMORY_MB": h["memory_mb_used"],
                "DISK_GB": h["local_gb_used"]}
        seen.append((h["hypervisor_hostname"], usage, want))
    return all(u == w for _, u, w in seen), repr(seen)


def test_osc_placement_reads_and_writes(cloud: Cloud, placement: str) -> None:
    root = requests.get(placement, timeout=30)
    assert root.json()["versions"][0]["max_version"] == "1.39"
    anonymous = requests.get(f"{placement}/resource_providers", timeout=30)
    assert anonymous.status_code == 401
    assert anonymous.json()["errors"][0]["status"] == 401, anonymous.text
    rps = ok(osc(cloud, "resource", "provider", "list", "-f", "json"))
    providers = {p["name"]: p["uuid"] for p in rps}
    hypervisors = cloud.call("admin", "GET", "/os-hypervisors").json()["hypervisors"]
    assert set(providers) == {h["hypervisor_hostname"] for h in hypervisors}, rps
    assert "kc3" in providers
    kc3, a1 = providers["kc3"], cloud.servers["a1"]
    out = osc_all(cloud, {
        "show": ("resource", "provider", "show", kc3, "-f", "json"),
        "inventory": ("resource", "provider", "inventory", "list", kc3, "-f", "json"),
        "allocation": ("resource", "provider", "allocation", "show", a1, "-f", "json"),
        "candidates": ("allocation", "candidate", "list", "--resource", "VCPU=1",
                       "-f", "json"),
        "traits": ("resource", "provider", "trait", "list", kc3, "-f", "json"),
        "create": ("trait", "create", "CUSTOM_PLACEMENT_TEST"),
        "project": ("resource", "usage", "show", cloud.logins["member-a"].project_id,
                    "-f", "json"),
    })
    project = {r["resource_class"]: r["usage"] for r in out["project"]}
    assert project["VCPU"] >= 1 and project["MEMORY_MB"] >= 128, project  # a1 at least
    assert out["show"]["name"] == "kc3" and out["show"]["root_provider_uuid"] == kc3
    inventory = {r["resource_class"]: r for r in out["inventory"]}
    hyp = next(h for h in cloud.call("admin", "GET", "/os-hypervisors/detail").json()[
        "hypervisors"] if h["hypervisor_hostname"] == "kc3")
    assert inventory["VCPU"]["total"] == hyp["vcpus"] == 4
    assert inventory["MEMORY_MB"]["total"] == hyp["memory_mb"] == 4096
    allocation = out["allocation"]
    assert len(allocation) == 1 and allocation[0]["resources"]["VCPU"] == 1
    assert allocation[0]["project_id"] == cloud.logins["member-a"].project_id
    assert {c["resource provider"] for c in out["candidates"]} == set(providers.values())

    # Usages equal the hypervisors' (the computes report on their own period).
    deadline = time.monotonic() + 60
    while True:
        matches, seen = _usage_matches(cloud, providers)
        if matches:
            break
        assert time.monotonic() < deadline, seen
        time.sleep(1)

    current = [t["name"] for t in out["traits"]]
    assert "COMPUTE_NODE" in current
    headers = {"X-Auth-Token": cloud.logins["admin"].token,
               "OpenStack-API-Version": "placement 1.39"}
    aggs = requests.get(f"{placement}/resource_providers/{kc3}/aggregates", headers=headers,
                        timeout=30).json()["aggregates"]
    try:
        _traits_and_aggregates(cloud, kc3, current)
    finally:  # kc3's traits and aggregates as they were, for the tests after this one
        _restore(placement, headers, kc3, current, aggs)


def _restore(placement: str, headers: dict, rp: str, traits: list[str], aggs: list[str]
             ) -> None:
    for path, body in (("aggregates", {"aggregates": aggs}), ("traits", {"traits": traits})):
        url = f"{placement}/resource_providers/{rp}"
        gen = requests.get(url, headers=headers, timeout=30).json()["generation"]
        resp = requests.put(f"{url}/{path}", headers=headers, timeout=30,
                            json={**body, "resource_provider_generation": gen})
        assert resp.status_code == 200, resp.text


def _traits_and_aggregates(cloud: Cloud, kc3: str, current: list[str]) -> None:
    args = [a for t in current + ["CUSTOM_PLACEMENT_TEST"] for a in ("--trait", t)]
    ok(osc(cloud, "resource", "provider", "trait", "set", *args, kc3, "-f", "json"))
    agg = str(uuid.uuid4())
    gen = ok(osc(cloud, "resource", "provider", "show", kc3, "-f", "json"))["generation"]
    ok(osc(cloud, "resource", "provider", "aggregate", "set", "--aggregate", agg,
           "--generation", str(gen), kc3, "-f", "json"))
    out = osc_all(cloud, {
        "traits": ("resource", "provider", "trait", "list", kc3, "-f", "json"),
        "with_trait": ("allocation", "candidate", "list", "--resource", "VCPU=1",
                       "--required", "CUSTOM_PLACEMENT_TEST", "-f", "json"),
        "aggs": ("resource", "provider", "aggregate", "list", kc3, "-f", "json"),
        "members": ("resource", "provider", "list", "--member-of", agg, "-f", "json"),
    })
    assert "CUSTOM_PLACEMENT_TEST" in [t["name"] for t in out["traits"]]
    assert {c["resource provider"] for c in out["with_trait"]} == {kc3}
    assert [a["uuid"] for a in out["aggs"]] == [agg]
    assert [p["uuid"] for p in out["members"]] == [kc3]

    # A member is refused (admin-only by default, as Placement's rules).
    denied = osc(cloud, "resource", "provider", "list", who="member-a")
    assert denied.returncode != 0 and "403" in denied.stderr + denied.stdout


def test_audit_finds_and_deletes_an_orphan(cloud: Cloud, placement: str) -> None:
    rps = ok(osc(cloud, "resource", "provider", "list", "--name", "kc2", "-f", "json"))
    kc2 = rps[0]["uuid"]
    orphan = str(uuid.uuid4())
    ok(osc(cloud, "resource", "provider", "allocation", "set", orphan, "--allocation",
           f"rp={kc2},VCPU=1,MEMORY_MB=64", "--project-id", "nobody", "--user-id",
           "nobody", "-f", "json"))
    shown = ok(osc(cloud, "resource", "provider", "allocation", "show", orphan,
                   "-f", "json"))
    assert shown[0]["resources"] == {"VCPU": 1, "MEMORY_MB": 64}

    found = cloud.dep.manage("placement", "audit", "--verbose", check=False)
    assert found.returncode == 3, found.stdout + found.stderr
    assert orphan in found.stdout and kc2 in found.stdout
    for live in cloud.servers.values():
        assert live not in found.stdout
    deleted = cloud.dep.manage("placement", "audit", "--delete", check=False)
    assert deleted.returncode == 4, deleted.stdout + deleted.stderr
    assert ok(osc(cloud, "resource", "provider", "allocation", "show", orphan,
                  "-f", "json")) == []
    clean = cloud.dep.manage("placement", "audit", check=False)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    healed = cloud.dep.manage("placement", "heal_allocations", "--dry-run", check=False)
    assert healed.returncode == 4, healed.stdout + healed.stderr  # nothing missing
