"""Rebuild and resize of a real QEMU guest through the API (one libvirt compute host,
so the resize stays on it: allow_resize_to_same_host). libvirt's view of the domain is
checked after every step: the rebuilt guest boots afresh, the resized one comes back
with its new memory, vCPUs and disk, and a revert brings the old ones back."""

from __future__ import annotations

import json
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from tests.functional import accounting
from tests.functional.libvirt.test_api_guests import (BOOT_TIMEOUT, MARKER, _act,
                                                      _assert_recorded, _console, _dom,
                                                      _wait_markers, _wait_server)

libvirt = pytest.importorskip("libvirt")

pytestmark = [pytest.mark.libvirt, pytest.mark.slow]

MOVE_TIMEOUT = 180


@pytest.fixture(scope="module")
def guest(api_env):
    env = api_env
    r = env.dep.post("/flavors", {"flavor": {"name": "lv-bigger", "ram": 256, "vcpus": 2,
                                             "disk": 2, "id": "lv-bigger"}})
    assert r.status_code == 200, r.text
    r = env.dep.post("/servers", {"server": {"name": "mover", "imageRef": env.image_id,
                                             "flavorRef": "42"}})
    assert r.status_code == 202, r.text
    sid = r.json()["server"]["id"]
    _wait_server(env, sid, "ACTIVE", BOOT_TIMEOUT)
    _wait_markers(env, sid, 1)
    yield sid
    env.dep.delete(f"/servers/{sid}")
    env.dep.wait_gone([sid])


def _size(env, sid: str) -> tuple[int, int, int]:
    """(memory MiB, vCPUs, root disk GiB) of the domain as libvirt has it."""
    dom = _dom(env, sid)
    root = ET.fromstring(dom.XMLDesc(0))
    disk = root.find("./devices/disk[@device='disk']/source").get("file")
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", "-U", disk],
                                     check=True, capture_output=True, text=True).stdout)
    return dom.maxMemory() // 1024, int(root.findtext("vcpu")), \
        info["virtual-size"] // 1024 ** 3


def test_rebuild_boots_the_guest_afresh(api_env, guest):
    env, sid = api_env, guest
    before = _dom(env, sid).ID()
    start = time.monotonic()
    body = _act(env, sid, {"rebuild": {"imageRef": env.image_id, "name": "rebuilt"}})
    assert body["server"]["status"] == "REBUILD" and body["server"]["adminPass"]
    s = _wait_server(env, sid, "ACTIVE", MOVE_TIMEOUT)
    assert s["name"] == "rebuilt" and s["OS-EXT-STS:power_state"] == 1
    dom = _dom(env, sid)
    assert dom.ID() != before and dom.state()[0] == libvirt.VIR_DOMAIN_RUNNING
    took = _wait_markers(env, sid, 1)  # a new disk and a new console log
    assert _console(env, sid).count(MARKER) == 1
    _assert_recorded(env, sid, "rebuild", "compute_rebuild_instance")
    print(f"\nlibvirt: rebuild -> ACTIVE {time.monotonic() - start - took:.1f} s, "
          f"then marker after {took:.1f} s")


def test_resize_gives_the_guest_new_memory_cpus_and_disk(api_env, guest):
    env, sid = api_env, guest
    assert _size(env, sid) == (128, 1, 1)
    start = time.monotonic()
    _act(env, sid, {"resize": {"flavorRef": "lv-bigger"}})
    s = _wait_server(env, sid, "VERIFY_RESIZE", MOVE_TIMEOUT)
    verify = time.monotonic() - start
    assert s["OS-EXT-SRV-ATTR:host"] == env.host and s["OS-EXT-STS:power_state"] == 1
    assert _size(env, sid) == (256, 2, 2)
    marker = _wait_markers(env, sid, 1)  # the resized guest boots
    _assert_recorded(env, sid, "resize", "compute_finish_resize")
    accounting.assert_consistent(env.dep)

    _act(env, sid, {"revertResize": None})
    _wait_server(env, sid, "ACTIVE", MOVE_TIMEOUT)
    assert _size(env, sid) == (128, 1, 1)
    assert _dom(env, sid).state()[0] == libvirt.VIR_DOMAIN_RUNNING
    accounting.assert_consistent(env.dep)

    _act(env, sid, {"resize": {"flavorRef": "lv-bigger"}})
    _wait_server(env, sid, "VERIFY_RESIZE", MOVE_TIMEOUT)
    _act(env, sid, {"confirmResize": None}, expect=204)
    s = _wait_server(env, sid, "ACTIVE", MOVE_TIMEOUT)
    assert s["flavor"]["id"] == "lv-bigger" and _size(env, sid) == (256, 2, 2)
    _assert_recorded(env, sid, "confirmResize", "compute_confirm_resize")
    accounting.assert_consistent(env.dep)
    print(f"\nlibvirt: resize -> VERIFY_RESIZE {verify:.1f} s, resized guest's marker "
          f"{marker:.1f} s later")
