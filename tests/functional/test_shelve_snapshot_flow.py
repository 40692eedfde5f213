"""Shelve, offload, unshelve onto another host, snapshots, backups, rescue and the guest
calls, end to end on real daemons (fake driver), with the claims accounting checked after
every step; and a compute host killed in the middle of a shelve.

Host f1 keeps shelved servers (shelved_offload_time -1) and snapshots slowly (2 s, room
to kill it mid-way); f2 offloads at once (the default, 0).
"""

from __future__ import annotations

import signal
import time
from typing import Iterator

import pytest

from tests.functional import accounting, harness
from tests.functional.conftest import _require_services

V291 = {"OpenStack-API-Version": "compute 2.91"}
V245 = {"OpenStack-API-Version": "compute 2.45"}


@pytest.fixture(scope="module")
def shelve_hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.Deployment]:
    _require_services()
    dep = harness.Deployment(
        str(tmp_path_factory.mktemp("shelve")), {"f1": {}, "f2": {}},
        host_conf={"f1": "snapshot_delay = 2\n[DEFAULT]\nshelved_offload_time = -1\n"})
    try:
        dep.setup()
        yield dep
    finally:
        dep.teardown()


@pytest.fixture(scope="module")
def image(shelve_hosts, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("img") / "disk.raw"
    path.write_bytes(b"\0" * 4096)
    res = shelve_hosts.manage("image", "import", "--name", "shelve-base", "--property",
                              "os_distro=testos", str(path))
    return res.stdout.strip().splitlines()[-1]


@pytest.fixture(autouse=True)
def _clean_slate(shelve_hosts) -> Iterator[None]:
    """Every test starts from no servers, whatever the previous one left."""
    yield
    dep = shelve_hosts
    left = [s["id"] for s in dep.get("/servers?all_tenants=1").json()["servers"]]
    for sid in left:
        dep.delete(f"/servers/{sid}")
    dep.wait_gone(left)


def _boot(dep: harness.Deployment, image: str, name: str, host: str) -> str:
    r = dep.post("/servers", {"server": {"name": name, "imageRef": image, "flavorRef": "1",
                                         "availability_zone": f"nova:{host}"}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    assert dep.wait_for_servers([sid])[sid]["status"] == "ACTIVE"
    return sid


def _act(dep: harness.Deployment, sid: str, body: dict, code: int = 202,
         headers: dict | None = None) -> dict:
    r = dep.post(f"/servers/{sid}/action", body, headers=headers)
    assert r.status_code == code, r.text
    return r.json() if r.text else {}


def _settled(dep: harness.Deployment, sid: str, status: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        s = dep.get(f"/servers/{sid}").json()["server"]
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return s
        if time.monotonic() > deadline:
            raise AssertionError(f"{sid}: not {status}: {s['status']} "
                                 f"{s['OS-EXT-STS:task_state']} {s.get('fault')}")
        time.sleep(0.1)


def _images(dep: harness.Deployment, **props: str) -> list[dict]:
    images = dep.get("/images/detail").json()["images"]
    return [i for i in images if all(i["metadata"].get(k) == v for k, v in props.items())]


def _no_images_of(dep: harness.Deployment, sid: str, timeout: float = 20) -> None:
    """The server's images are gone (a shelved image is deleted right after the server
    is ACTIVE again, or when it is deleted)."""
    deadline = time.monotonic() + timeout
    while _images(dep, instance_uuid=sid):
        assert time.monotonic() < deadline, _images(dep, instance_uuid=sid)
        time.sleep(0.2)


def _event_ok(dep: harness.Deployment, sid: str, action: str, event: str) -> None:
    headers = {"OpenStack-API-Version": "compute 2.84"}
    acts = dep.get(f"/servers/{sid}/os-instance-actions", headers=headers).json()
    newest = max((a for a in acts["instanceActions"] if a["action"] == action),
                 key=lambda a: a["start_time"])
    shown = dep.get(f"/servers/{sid}/os-instance-actions/{newest['request_id']}",
                    headers=headers).json()["instanceAction"]
    events = {e["event"]: e["result"] for e in shown["events"]}
    assert events.get(event) == "Success", events


def test_shelve_offload_and_unshelve_onto_another_host(shelve_hosts, image):
    dep = shelve_hosts
    sid = _boot(dep, image, "keeper", "f1")
    accounting.assert_consistent(dep, expect_servers=1)

    started = time.monotonic()
    _act(dep, sid, {"shelve": None})
    s = _settled(dep, sid, "SHELVED")
    shelve_s = time.monotonic() - started
    assert s["OS-EXT-SRV-ATTR:host"] == "f1" and s["OS-EXT-STS:power_state"] == 4
    (snap,) = _images(dep, instance_uuid=sid)
    assert snap["name"] == "keeper-shelved" and snap["status"] == "ACTIVE"
    assert snap["metadata"]["image_type"] == "snapshot"
    assert snap["metadata"]["os_distro"] == "testos"
    _event_ok(dep, sid, "shelve", "compute_shelve_instance")
    accounting.assert_consistent(dep, expect_servers=1)  # shelved: the claim stays

    _act(dep, sid, {"shelveOffload": None})
    s = _settled(dep, sid, "SHELVED_OFFLOADED")
    assert s["OS-EXT-SRV-ATTR:host"] is None and s["hostId"] == ""
    assert s["OS-EXT-STS:power_state"] == 0
    accounting.assert_consistent(dep, expect_servers=0)  # guest and claim gone
    listed = dep.get("/servers?status=SHELVED_OFFLOADED").json()["servers"]
    assert [x["id"] for x in listed] == [sid]

    started = time.monotonic()
    _act(dep, sid, {"unshelve": {"host": "f2"}}, headers=V291)
    s = _settled(dep, sid, "ACTIVE")
    unshelve_s = time.monotonic() - started
    assert s["OS-EXT-SRV-ATTR:host"] == "f2" and s["image"]["id"] == image
    _no_images_of(dep, sid)  # the shelved image is deleted
    _event_ok(dep, sid, "unshelve", "compute_unshelve_instance")
    accounting.assert_consistent(dep, expect_servers=1)
    print(f"\nfake driver: shelve {shelve_s:.2f} s (2 s snapshot delay), "
          f"unshelve to another host {unshelve_s:.2f} s")
    dep.delete(f"/servers/{sid}")
    dep.wait_gone([sid])
    accounting.assert_consistent(dep, expect_servers=0)


def test_shelve_offloads_at_once_and_unshelve_schedules_again(shelve_hosts, image):
    dep = shelve_hosts
    sid = _boot(dep, image, "mover", "f2")
    _act(dep, sid, {"shelve": None})
    s = _settled(dep, sid, "SHELVED_OFFLOADED")
    assert s["OS-EXT-SRV-ATTR:host"] is None
    accounting.assert_consistent(dep, expect_servers=0)
    # with an availability zone (2.77), then 2.91's unpinning accepted too
    _act(dep, sid, {"unshelve": {"availability_zone": "nova"}},
         headers={"OpenStack-API-Version": "compute 2.77"})
    s = _settled(dep, sid, "ACTIVE")
    assert s["OS-EXT-SRV-ATTR:host"] in ("f1", "f2")
    accounting.assert_consistent(dep, expect_servers=1)
    # a shelved server's image goes when the server is deleted
    _act(dep, sid, {"shelve": None})
    _settled(dep, sid, "SHELVED_OFFLOADED" if s["OS-EXT-SRV-ATTR:host"] == "f2"
             else "SHELVED")
    assert len(_images(dep, instance_uuid=sid)) == 1
    assert dep.delete(f"/servers/{sid}").status_code == 204
    dep.wait_gone([sid])
    _no_images_of(dep, sid)
    accounting.assert_consistent(dep, expect_servers=0)


def test_unshelve_errors(shelve_hosts, image):
    dep = shelve_hosts
    sid = _boot(dep, image, "picky", "f1")
    r = dep.post(f"/servers/{sid}/action", {"unshelve": None})
    assert r.status_code == 409
    _act(dep, sid, {"shelve": None})
    _settled(dep, sid, "SHELVED")
    r = dep.post(f"/servers/{sid}/action", {"unshelve": {"host": "f2"}}, headers=V291)
    assert r.status_code == 409  # a host only for SHELVED_OFFLOADED
    _act(dep, sid, {"shelveOffload": None})
    _settled(dep, sid, "SHELVED_OFFLOADED")
    r = dep.post(f"/servers/{sid}/action", {"unshelve": {"host": "nowhere"}}, headers=V291)
    assert r.status_code == 400 and "nowhere" in r.json()["badRequest"]["message"]
    r = dep.post(f"/servers/{sid}/action", {"unshelve": {"availability_zone": "mars"}},
                 headers=V291)
    assert r.status_code == 400
    s = _settled(dep, sid, "SHELVED_OFFLOADED")  # nothing changed
    assert s["OS-EXT-SRV-ATTR:host"] is None
    accounting.assert_consistent(dep, expect_servers=0)
    dep.delete(f"/servers/{sid}")
    dep.wait_gone([sid])


def test_snapshot_boots_and_backups_rotate(shelve_hosts, image):
    dep = shelve_hosts
    sid = _boot(dep, image, "origin", "f2")
    started = time.monotonic()
    image_id = _act(dep, sid, {"createImage": {"name": "origin-snap",
                                               "metadata": {"purpose": "test"}}},
                    headers=V245)["image_id"]
    _settled(dep, sid, "ACTIVE")
    snapshot_s = time.monotonic() - started
    snap = dep.get(f"/images/{image_id}").json()["image"]
    assert snap["status"] == "ACTIVE" and snap["metadata"]["purpose"] == "test"
    assert snap["metadata"]["base_image_ref"] == image
    assert snap["metadata"]["instance_uuid"] == sid
    _event_ok(dep, sid, "createImage", "compute_snapshot_instance")
    r = dep.post("/servers", {"server": {"name": "from-snap", "imageRef": image_id,
                                         "flavorRef": "1"}})
    assert r.status_code == 202, r.text
    child = r.json()["server"]["id"]
    assert dep.wait_for_servers([child])[child]["status"] == "ACTIVE"

    for n in range(2):
        r = dep.post(f"/servers/{sid}/action",
                     {"createBackup": {"name": f"b{n}", "backup_type": "daily",
                                       "rotation": 1}})
        assert r.status_code == 202, r.text
        assert r.headers["Location"].split("/")[-1]
        _settled(dep, sid, "ACTIVE")
        time.sleep(1.1)  # distinct creation times, as real backups have
    backups = _images(dep, instance_uuid=sid, image_type="backup")
    assert [b["name"] for b in backups] == ["b1"]
    accounting.assert_consistent(dep, expect_servers=2)
    print(f"\nfake driver: createImage {snapshot_s:.2f} s")
    for s in (sid, child):
        dep.delete(f"/servers/{s}")
    dep.wait_gone([sid, child])


def test_rescue_crash_dump_password_and_diagnostics(shelve_hosts, image):
    dep = shelve_hosts
    sid = _boot(dep, image, "patient", "f2")
    body = _act(dep, sid, {"rescue": {"adminPass": "rescue-pw"}}, code=200)
    assert body == {"adminPass": "rescue-pw"}
    s = _settled(dep, sid, "RESCUE")
    assert s["OS-EXT-STS:vm_state"] == "rescued"
    assert [x["id"] for x in dep.get("/servers?status=RESCUE").json()["servers"]] == [sid]
    _act(dep, sid, {"unrescue": None})
    _settled(dep, sid, "ACTIVE")
    _event_ok(dep, sid, "unrescue", "compute_unrescue_instance")

    _act(dep, sid, {"trigger_crash_dump": None},
         headers={"OpenStack-API-Version": "compute 2.17"})
    deadline = time.monotonic() + 10
    while "fake NMI received" not in dep.post(
            f"/servers/{sid}/action", {"os-getConsoleOutput": {}}).json()["output"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    _act(dep, sid, {"changePassword": {"adminPass": "n3w"}})
    _settled(dep, sid, "ACTIVE")
    r = dep.get(f"/servers/{sid}/diagnostics", headers={"OpenStack-API-Version":
                                                        "compute 2.48"})
    assert r.status_code == 200 and r.json()["driver"] == "fake"
    assert r.json()["state"] == "running"
    accounting.assert_consistent(dep, expect_servers=1)
    dep.delete(f"/servers/{sid}")
    dep.wait_gone([sid])


def test_compute_killed_mid_shelve(shelve_hosts, image):
    """f1's snapshot takes 2 s: kill f1 then, restart it; the server is back to a
    stopped server holding its claim, and the unfinished image is gone."""
    dep = shelve_hosts
    sid = _boot(dep, image, "victim", "f1")
    _act(dep, sid, {"shelve": None})
    deadline = time.monotonic() + 20
    while dep.get(f"/servers/{sid}").json()["server"]["OS-EXT-STS:task_state"] != \
            "shelving_image_pending_upload":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    dep.stop_proc("compute-f1", signal.SIGKILL)
    assert [i["status"] for i in _images(dep, instance_uuid=sid)] == ["SAVING"]
    dep.start_proc("compute-f1", "nova-lite-compute", dep.host_confs["f1"])
    s = _settled(dep, sid, "SHUTOFF", timeout=60)
    assert s["OS-EXT-SRV-ATTR:host"] == "f1"
    _no_images_of(dep, sid)
    accounting.assert_consistent(dep, expect_servers=1)
    # (the fake hypervisor forgets its guests with the process, so nothing more is done
    # with this one; the libvirt tests shelve a real guest)
    dep.delete(f"/servers/{sid}")
    dep.wait_gone([sid])
    accounting.assert_consistent(dep, expect_servers=0)


def test_offloaded_server_still_counts_against_the_quota(shelve_hosts, image):
    """Quotas count servers, not claims: an offloaded server keeps its share (so its
    unshelve can never be refused for quota), a new one past the limit is refused."""
    dep = shelve_hosts
    r = dep.request("PUT", "/os-quota-sets/admin", body={"quota_set": {"instances": 1}})
    assert r.status_code == 200, r.text
    try:
        sid = _boot(dep, image, "counted", "f2")
        _act(dep, sid, {"shelve": None})
        _settled(dep, sid, "SHELVED_OFFLOADED")
        r = dep.post("/servers", {"server": {"name": "one-too-many", "imageRef": image,
                                             "flavorRef": "1"}})
        assert r.status_code == 403, r.text
        assert "Quota exceeded for instances" in r.json()["forbidden"]["message"]
        _act(dep, sid, {"unshelve": None})
        _settled(dep, sid, "ACTIVE")
        accounting.assert_consistent(dep, expect_servers=1)
    finally:
        assert dep.request("DELETE", "/os-quota-sets/admin").status_code in (200, 202, 204)
