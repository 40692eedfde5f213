"""Real QEMU guests through the compute API: rescue/unrescue, a snapshot that boots
again, shelve/unshelve from the shelved image, an NMI, diagnostics and changePassword.

One deployment with one libvirt compute host (see conftest.api_env). The guest prints
the first bytes of its first disk, so the console tells which disk it booted from; the
domain XML tells which disks it has. The tests share the guests and run in file order.
"""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET

import pytest

from tests.functional import accounting

libvirt = pytest.importorskip("libvirt")

pytestmark = [pytest.mark.libvirt, pytest.mark.slow]

MARKER = "NOVA-LITE-GUEST-UP"
OWN_DISK = "disk /dev/vda says: NOVA-LITE-TEST-DISK"
RESCUE_SIGNATURE = b"NOVA-LITE-RESCUE-DK"  # 19 bytes, as many as the guest prints
RESCUE_DISK = "disk /dev/vda says: NOVA-LITE-RESCUE-DK"
BOOT_TIMEOUT = 300
ACTION_TIMEOUT = 300
V245 = {"OpenStack-API-Version": "compute 2.45"}
FIGURES: dict[str, float] = {}


def _server(env, sid: str) -> dict:
    r = env.dep.get(f"/servers/{sid}")
    assert r.status_code == 200, r.text
    return r.json()["server"]


def _wait(env, sid: str, status: str, timeout: float = ACTION_TIMEOUT) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        s = _server(env, sid)
        if s["status"] == status and s["OS-EXT-STS:task_state"] is None:
            return s
        if s["status"] == "ERROR" or time.monotonic() > deadline:
            pytest.fail(f"{sid} did not become {status}: {s['status']} "
                        f"{s['OS-EXT-STS:task_state']} {s.get('fault')}\n"
                        f"{env.dep.logs('compute-' + env.host)[-3000:]}")
        time.sleep(0.2)


def _console(env, sid: str) -> str:
    r = env.dep.post(f"/servers/{sid}/action", {"os-getConsoleOutput": {}})
    assert r.status_code == 200, r.text
    return r.json()["output"]


def _wait_console(env, sid: str, text: str, count: int = 1,
                  timeout: float = BOOT_TIMEOUT) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if _console(env, sid).count(text) >= count:
            return time.monotonic() - start
        time.sleep(0.5)
    pytest.fail(f"{sid}: {count} x {text!r} not on the console within {timeout}s:\n"
                f"{_console(env, sid)[-2000:]}")


def _act(env, sid: str, body: dict, code: int = 202, headers: dict | None = None) -> dict:
    r = env.dep.post(f"/servers/{sid}/action", body, headers=headers)
    assert r.status_code == code, r.text
    return r.json() if r.text else {}


def _disks(env, sid: str) -> list[tuple[str, str]]:
    """(target dev, source file) of the domain's disks, in order."""
    root = ET.fromstring(env.conn.lookupByUUIDString(sid).XMLDesc(0))
    return [(d.find("target").get("dev"), d.find("source").get("file"))
            for d in root.findall("./devices/disk") if d.get("device") == "disk"]


def _store(env):
    from nova_lite.image.local import LocalImageStore

    return LocalImageStore(os.path.join(env.dep.state_path, "images"))


def _boot(env, name: str, image: str) -> tuple[str, float]:
    started = time.monotonic()
    r = env.dep.post("/servers", {"server": {"name": name, "imageRef": image,
                                             "flavorRef": "42"}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    _wait(env, sid, "ACTIVE", BOOT_TIMEOUT)
    _wait_console(env, sid, MARKER)
    return sid, time.monotonic() - started


@pytest.fixture(scope="module")
def rescue_image(api_env) -> str:
    """A disk saying NOVA-LITE-RESCUE-DK, booted with the test image's kernel."""
    env = api_env
    base = _store(env).show(None, env.image_id)
    path = os.path.join(env.dep.workdir, "rescue.raw")
    with open(path, "wb") as f:
        f.write(RESCUE_SIGNATURE + b"\n" + b"\0" * (1024 * 1024 - len(RESCUE_SIGNATURE) - 1))
    args = ["image", "import", "--name", "rescue-disk"]
    for key in ("kernel_id", "ramdisk_id", "os_command_line"):
        if base["properties"].get(key):
            args += ["--property", f"{key}={base['properties'][key]}"]
    return env.dep.manage(*args, path).stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def guest(api_env) -> str:
    sid, took = _boot(api_env, "patient", api_env.image_id)
    FIGURES["boot (create -> marker)"] = took
    return sid


def test_rescue_boots_the_rescue_disk_with_the_own_disk_second(api_env, guest,
                                                                rescue_image):
    env, sid = api_env, guest
    own = _disks(env, sid)
    assert [dev for dev, _ in own][:1] == ["vda"]
    own_path = own[0][1]
    started = time.monotonic()
    body = _act(env, sid, {"rescue": {"rescue_image_ref": rescue_image,
                                      "adminPass": "rescue-pw"}}, code=200)
    assert body == {"adminPass": "rescue-pw"}
    s = _wait(env, sid, "RESCUE")
    assert s["OS-EXT-STS:vm_state"] == "rescued" and s["OS-EXT-STS:power_state"] == 1
    _wait_console(env, sid, RESCUE_DISK)
    _wait_console(env, sid, MARKER, 2)
    FIGURES["rescue (-> rescue disk's marker)"] = time.monotonic() - started
    disks = _disks(env, sid)
    assert disks[0][0] == "vda" and disks[0][1].endswith("/disk.rescue")
    assert disks[1] == ("vdb", own_path)
    # no snapshot or shelve of a rescued server
    r = env.dep.post(f"/servers/{sid}/action", {"shelve": None})
    assert r.status_code == 409

    own_disk, markers = _console(env, sid).count(OWN_DISK), _console(env, sid).count(MARKER)
    _act(env, sid, {"unrescue": None})
    _wait(env, sid, "ACTIVE")
    _wait_console(env, sid, OWN_DISK, own_disk + 1)
    _wait_console(env, sid, MARKER, markers + 1)
    assert _disks(env, sid)[0] == ("vda", own_path)
    assert len(_disks(env, sid)) == len(own)
    inst_dir = os.path.dirname(own_path)
    assert not os.path.exists(os.path.join(inst_dir, "disk.rescue"))
    assert not os.path.exists(os.path.join(inst_dir, "unrescue.xml"))


def test_snapshot_of_a_running_guest_boots_again(api_env, guest):
    env, sid = api_env, guest
    markers = _console(env, sid).count(MARKER)
    started = time.monotonic()
    image_id = _act(env, sid, {"createImage": {"name": "patient-snap"}},
                    headers=V245)["image_id"]
    s = _wait(env, sid, "ACTIVE")
    FIGURES["createImage (running guest)"] = time.monotonic() - started
    assert s["OS-EXT-STS:power_state"] == 1
    assert env.conn.lookupByUUIDString(sid).state()[0] == libvirt.VIR_DOMAIN_RUNNING
    time.sleep(1)
    assert _console(env, sid).count(MARKER) == markers  # restored, not rebooted
    image = _store(env).show(None, image_id)
    assert image["status"] == "active" and image["disk_format"] == "qcow2"
    assert image["properties"]["image_type"] == "snapshot"
    assert image["properties"]["instance_uuid"] == sid
    assert image["properties"]["kernel_id"]  # boots the way its base image did

    child, took = _boot(env, "from-snapshot", image_id)
    FIGURES["boot from the snapshot"] = took
    assert OWN_DISK in _console(env, child)  # the disk's content came with it
    env.dep.delete(f"/servers/{child}")
    env.dep.wait_gone([child])


def test_nmi_diagnostics_and_password(api_env, guest):
    env, sid = api_env, guest
    _act(env, sid, {"trigger_crash_dump": None},
         headers={"OpenStack-API-Version": "compute 2.17"})
    _wait_console(env, sid, "NMI", timeout=30)
    r = env.dep.get(f"/servers/{sid}/diagnostics",
                    headers={"OpenStack-API-Version": "compute 2.48"})
    assert r.status_code == 200, r.text
    diag = r.json()
    assert (diag["driver"], diag["state"], diag["hypervisor_os"]) == ("libvirt", "running",
                                                                      "linux")
    assert diag["hypervisor"] == env.virt_type and diag["num_cpus"] == 1
    assert diag["memory_details"]["maximum"] == 128
    assert diag["cpu_details"][0]["time"] > 0 and diag["uptime"] > 0
    assert diag["num_disks"] == len(diag["disk_details"]) >= 1
    # (the snapshot restored the guest into a new QEMU process: its I/O counters restarted)
    disk = diag["disk_details"][0]
    assert all(disk[k] >= 0 for k in ("read_bytes", "read_requests", "write_bytes",
                                      "write_requests"))
    assert disk["errors_count"] >= -1  # libvirt's -1: not counted by this hypervisor
    legacy = env.dep.get(f"/servers/{sid}/diagnostics").json()
    assert legacy["cpu0_time"] > 0 and legacy["memory"] == 128 * 1024
    r = env.dep.post(f"/servers/{sid}/action", {"changePassword": {"adminPass": "x"}})
    assert r.status_code == 409
    assert "Guest agent is not enabled" in r.json()["conflictingRequest"]["message"]
    _wait(env, sid, "ACTIVE")


def test_shelve_offloads_and_unshelve_boots_the_shelved_image(api_env, guest):
    env, sid = api_env, guest
    instances = os.path.join(env.dep.state_path, "instances")
    started = time.monotonic()
    _act(env, sid, {"shelve": None})
    s = _wait(env, sid, "SHELVED_OFFLOADED")
    FIGURES["shelve + offload"] = time.monotonic() - started
    assert s["OS-EXT-SRV-ATTR:host"] is None
    assert sid not in {d.UUIDString() for d in env.our_domains()}
    assert not os.path.exists(os.path.join(instances, sid))
    shelved = {"instance_uuid": sid, "name": "patient-shelved"}
    (image,) = _store(env).list(None, shelved)
    assert image["disk_format"] == "qcow2" and image["status"] == "active"
    accounting.assert_consistent(env.dep, expect_servers=0)

    started = time.monotonic()
    _act(env, sid, {"unshelve": None})
    s = _wait(env, sid, "ACTIVE", BOOT_TIMEOUT)
    _wait_console(env, sid, OWN_DISK)
    FIGURES["unshelve (-> marker)"] = time.monotonic() - started
    assert s["OS-EXT-SRV-ATTR:host"] == env.host
    dom = env.conn.lookupByUUIDString(sid)
    assert dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    deadline = time.monotonic() + 20
    while _store(env).list(None, shelved):
        assert time.monotonic() < deadline, "the shelved image was not deleted"
        time.sleep(0.2)
    accounting.assert_consistent(env.dep, expect_servers=1)
    print("\nlibvirt (" + env.virt_type + "): " + ", ".join(
        f"{k} {v:.1f} s" for k, v in FIGURES.items()))
    env.dep.delete(f"/servers/{sid}")
    env.dep.wait_gone([sid])
    assert env.our_domains() == []
    accounting.assert_consistent(env.dep, expect_servers=0)
