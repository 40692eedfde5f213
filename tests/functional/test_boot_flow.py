"""End to end through real daemons: boot, list, show, delete; capacity exhaustion."""

from __future__ import annotations

import collections
import concurrent.futures
import time

import pytest

from tests.functional import accounting, harness

IMAGE_NAME = "functional-test-image"


def image_id(dep: harness.Deployment, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("img") / "disk.raw"
    path.write_bytes(b"\0" * 4096)
    res = dep.manage("image", "import", "--name", IMAGE_NAME, str(path))
    return res.stdout.strip().splitlines()[-1]


def boot_many(dep: harness.Deployment, n: int, image: str, flavor: str,
               token: str = "admin:admin") -> list[str]:
    def boot(i: int) -> str:
        r = dep.post("/servers", {"server": {"name": f"vm-{i}", "imageRef": image,
                                             "flavorRef": flavor}}, token=token)
        assert r.status_code == 202, r.text
        return r.json()["server"]["id"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(boot, range(n)))


def delete_all(dep: harness.Deployment, ids: list[str]) -> None:
    for sid in ids:
        r = dep.delete(f"/servers/{sid}")
        assert r.status_code == 204, r.text
    dep.wait_gone(ids)


def test_fifty_concurrent_boots_spread_and_delete(three_hosts, tmp_path_factory):
    dep = three_hosts
    image = image_id(dep, tmp_path_factory)
    ids = boot_many(dep, 50, image, "1")
    servers = dep.wait_for_servers(ids)
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}, [
        s.get("fault") for s in servers.values() if s["status"] != "ACTIVE"]
    per_host = collections.Counter(s["OS-EXT-SRV-ATTR:host"] for s in servers.values())
    assert set(per_host) == {"c1", "c2", "c3"}
    assert max(per_host.values()) - min(per_host.values()) <= 2, per_host
    for s in servers.values():
        assert s["OS-EXT-STS:vm_state"] == "active"
        assert s["OS-EXT-STS:task_state"] is None
        assert s["OS-EXT-STS:power_state"] == 1
        assert s["OS-EXT-SRV-ATTR:instance_name"].startswith("instance-")
    # show one, as its owner would
    one = dep.get(f"/servers/{ids[0]}").json()["server"]
    assert one["id"] == ids[0] and one["image"]["id"] == image

    services = dep.get("/os-services").json()["services"]
    by_binary = collections.Counter(s["binary"] for s in services if s["state"] == "up")
    assert by_binary["nova-compute"] == 3
    assert by_binary["nova-scheduler"] >= 1 and by_binary["nova-conductor"] >= 1
    assert all(s["state"] == "up" for s in services)

    delete_all(dep, ids)
    assert dep.get("/servers/detail?all_tenants=1").json()["servers"] == []
    # the hosts report themselves empty again at their next resource update
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        hvs = dep.get("/os-hypervisors/detail").json()["hypervisors"]
        if all(hv["running_vms"] == 0 for hv in hvs):
            break
        time.sleep(0.5)
    assert [hv["running_vms"] for hv in hvs] == [0, 0, 0]


def test_bad_requests_get_clear_4xx(three_hosts, tmp_path_factory):
    dep = three_hosts
    image = image_id(dep, tmp_path_factory)
    cases = [
        ({"raw": "{not json"}, 400),
        ({"body": {"server": {"name": "x", "imageRef": image, "flavorRef": "nope"}}}, 400),
        ({"body": {"server": {"imageRef": image, "flavorRef": "1"}}}, 400),
        ({"body": {"server": {"name": "x" * 256, "imageRef": image, "flavorRef": "1"}}}, 400),
        ({"body": {"server": {"name": "", "imageRef": image, "flavorRef": "1"}}}, 400),
        ({"body": {"server": {"name": "x", "imageRef": "0c1c8c37-6f1c-4a3e-9d93-3b2e9b6f0c11",
                              "flavorRef": "1"}}}, 400),
        ({"body": {"server": {"name": "x", "imageRef": image, "flavorRef": "1",
                              "bogus": 1}}}, 400),
        ({"body": {"servers": {}}}, 400),
    ]
    for kw, code in cases:
        r = dep.request("POST", "/servers", body=kw.get("body"), raw=kw.get("raw"))
        assert r.status_code == code, (kw, r.status_code, r.text)
        fault = r.json()
        assert list(fault) == ["badRequest"] and fault["badRequest"]["code"] == 400
        assert fault["badRequest"]["message"]
    r = dep.get("/servers", headers={"OpenStack-API-Version": "compute 9.99"})
    assert r.status_code == 406
    r = dep.get("/servers/6b9f5b6f-7c2d-4c89-8c55-8a2f4b3e9d10")
    assert r.status_code == 404 and "itemNotFound" in r.json()
    assert dep.get("/servers", token="").status_code == 401


V253 = {"OpenStack-API-Version": "compute 2.53"}


def _service(dep: harness.Deployment, host: str) -> dict:
    r = dep.get(f"/os-services?host={host}&binary=nova-compute", headers=V253)
    assert r.status_code == 200, r.text
    (svc,) = r.json()["services"]
    return svc


def _set_service(dep: harness.Deployment, host: str, body: dict) -> dict:
    r = dep.request("PUT", f"/os-services/{_service(dep, host)['id']}", body=body,
                    headers=V253)
    assert r.status_code == 200, r.text
    return r.json()["service"]


def test_operator_disables_forces_down_and_deletes_hosts(three_hosts, tmp_path_factory):
    """A disabled host and a forced-down one get no servers and the fault says why; a
    host cannot be deleted while it has servers, and once empty its service, node and
    provider go. Last in this module: it removes c3 for good."""
    dep = three_hosts
    image = image_id(dep, tmp_path_factory)
    s1 = _set_service(dep, "c1", {"status": "disabled", "disabled_reason": "rack work"})
    assert (s1["status"], s1["disabled_reason"], s1["state"]) == ("disabled", "rack work",
                                                                  "up")
    s2 = _set_service(dep, "c2", {"forced_down": True})
    assert (s2["forced_down"], s2["state"], s2["status"]) == (True, "down", "enabled")
    hvs = {h["hypervisor_hostname"]: h for h in
           dep.get("/os-hypervisors/detail").json()["hypervisors"]}
    assert hvs["c1"]["status"] == "disabled"
    assert hvs["c1"]["service"]["disabled_reason"] == "rack work"
    assert hvs["c2"]["state"] == "down"
    up = dep.get(f"/os-hypervisors/{hvs['c1']['id']}/uptime").json()["hypervisor"]
    assert "load average" in up["uptime"]
    r = dep.get(f"/os-hypervisors/{hvs['c2']['id']}/uptime")
    assert r.status_code == 400 and "c2 is unavailable" in r.text

    ids = boot_many(dep, 3, image, "1")
    servers = dep.wait_for_servers(ids)
    assert {s["OS-EXT-SRV-ATTR:host"] for s in servers.values()} == {"c3"}
    _set_service(dep, "c3", {"status": "disabled"})
    # A show from 2.71 comes with the server's groups and its host's state (2.16), as
    # the operator's mark leaves it.
    shown = dep.get(f"/servers/{ids[0]}", headers={
        "X-OpenStack-Nova-API-Version": "2.96"}).json()["server"]
    assert (shown["host_status"], shown["server_groups"]) == ("MAINTENANCE", [])
    r = dep.post("/servers", {"server": {"name": "nowhere", "imageRef": image,
                                         "flavorRef": "1"}})
    nowhere = r.json()["server"]["id"]
    failed = dep.wait_for_servers([nowhere])[nowhere]
    assert failed["status"] == "ERROR"
    message = failed["fault"]["message"]
    assert "3 host(s) considered, 3 rejected." in message
    assert "c1: ComputeFilter: compute service is disabled (rack work)." in message
    assert "c2: ComputeFilter: compute service is forced down." in message
    assert "c3: ComputeFilter: compute service is disabled." in message

    assert _set_service(dep, "c2", {"forced_down": False})["state"] == "up"
    for host in ("c1", "c3"):
        assert _set_service(dep, host, {"status": "enabled"})["disabled_reason"] is None
    c3 = _service(dep, "c3")
    r = dep.delete(f"/os-services/{c3['id']}", headers=V253)
    assert r.status_code == 409 and "hosting instances" in r.text, r.text
    delete_all(dep, ids + [nowhere])
    dep.stop_proc("compute-c3")  # else it would record itself again, as in Nova
    assert dep.delete(f"/os-services/{c3['id']}", headers=V253).status_code == 204
    hosts = {s["host"] for s in dep.get("/os-services?binary=nova-compute").json()["services"]}
    assert hosts == {"c1", "c2"}
    assert {h["hypervisor_hostname"] for h in
            dep.get("/os-hypervisors").json()["hypervisors"]} == {"c1", "c2"}
    assert dep.delete(f"/os-services/{c3['id']}", headers=V253).status_code == 404
    accounting.assert_consistent(dep, expect_servers=0)

    ids = boot_many(dep, 2, image, "1")
    servers = dep.wait_for_servers(ids)
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}
    assert {s["OS-EXT-SRV-ATTR:host"] for s in servers.values()} <= {"c1", "c2"}
    delete_all(dep, ids)
    accounting.assert_consistent(dep, expect_servers=0)
