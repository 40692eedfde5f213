"""End to end through real daemons: boot, list, show, delete; capacity exhaustion."""

from __future__ import annotations

import collections
import concurrent.futures
import time

import pytest

from tests.functional import harness

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
