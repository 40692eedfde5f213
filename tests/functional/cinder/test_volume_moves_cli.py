"""Unmodified python-openstackclient resizes a server booted from a real Cinder volume
(Ceph RBD) with a data volume attached, on the real libvirt host (one host: the resize
stays on it, [DEFAULT] allow_resize_to_same_host): `server resize --wait` reaches
VERIFY_RESIZE with both volumes in the new guest (the guest prints their serials as it
boots; the domain has both RBD disks), through new Cinder attachments (the old ones are
gone); `server resize confirm` keeps them; a second resize reverted brings the guest
back at its old size with both volumes again. `server shelve` offloads it at once
without an image (the volumes stay reserved for it) and `server unshelve` boots
it again from its root volume with the data volume; `server rebuild --image <its image>`
at 2.92 (the root volume is not re-imaged) gives a new guest with both volumes (2.93's
re-imaging: test_volume_reimage_cli)."""

from __future__ import annotations

import json
import time

import pytest

from tests.functional.cinder.conftest import VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 240
MARKER = "NOVA-LITE-GUEST-UP"
DISK_MARKER = "NOVA-LITE-GUEST-DISK"


def _attachment_ids(c: VolumeCloud, sid: str) -> dict[str, str]:
    resp = c.compute("member-a", "GET", f"/servers/{sid}/os-volume_attachments")
    assert resp.status_code == 200, resp.text
    return {a["volumeId"]: a["attachment_id"] for a in resp.json()["volumeAttachments"]}


def _status(c: VolumeCloud, sid: str, status: str, timeout: float = BOOT_TIMEOUT) -> dict:
    return c.server_status(sid, status, timeout)


def _resize(c: VolumeCloud, sid: str, flavor: str) -> None:
    proc = c.run("member-a", "server", "resize", "--flavor", flavor, "--wait", sid,
                 timeout=BOOT_TIMEOUT)
    if proc.returncode != 0:  # the fault says why
        shown = c.run("admin", "server", "show", sid, "-f", "json")
        raise AssertionError(f"{proc.stderr}\n{shown.stdout}")


def _both_in_guest(c: VolumeCloud, sid: str, root: str, data: str) -> None:
    """Both volumes are disks of the running guest: in the domain and on its console."""
    xml = c.env.conn.lookupByUUIDString(sid).XMLDesc(0)
    assert f"volumes/volume-{root}" in xml and f"volumes/volume-{data}" in xml, xml
    log = c.console_has(sid, f"{DISK_MARKER} vda={root[:20]}", BOOT_TIMEOUT)
    assert data[:20] in log or c.console_has(sid, data[:20], 60)


def _attached_once_to(c: VolumeCloud, vid: str, sid: str) -> None:
    listed = c.cinder("member-a", f"/attachments?volume_id={vid}")["attachments"]
    assert [(a["instance"], a["status"]) for a in listed] == [(sid, "attached")], listed
    assert c.cinder("member-a", f"/volumes/{vid}")["volume"]["status"] == "in-use"


def test_resize_a_volume_backed_server_with_a_data_volume(volume_cloud: VolumeCloud):
    c = volume_cloud
    sid, data = c.volume_backed_with_data("vb-resize", BOOT_TIMEOUT)
    try:
        c.console_has(sid, MARKER, BOOT_TIMEOUT)
        [root] = [v for v in _attachment_ids(c, sid) if v != data]
        before = _attachment_ids(c, sid)

        t0 = time.monotonic()
        _resize(c, sid, "m1.micro")
        resize_s = time.monotonic() - t0
        shown = _status(c, sid, "VERIFY_RESIZE")
        assert "m1.micro" in str(shown["flavor"]), shown["flavor"]
        during = _attachment_ids(c, sid)
        assert set(during) == {root, data}
        assert not set(during.values()) & set(before.values()), (before, during)
        for vid in (root, data):
            _attached_once_to(c, vid, sid)
        _both_in_guest(c, sid, root, data)

        c.cli("member-a", "server", "resize", "confirm", sid)
        _status(c, sid, "ACTIVE")
        assert _attachment_ids(c, sid) == during
        for vid in (root, data):
            _attached_once_to(c, vid, sid)

        # Resize back to m1.nano, then revert: the guest at m1.micro with both volumes.
        _resize(c, sid, "m1.nano")
        _status(c, sid, "VERIFY_RESIZE")
        c.cli("member-a", "server", "resize", "revert", sid)
        shown = _status(c, sid, "ACTIVE")
        assert "m1.micro" in str(shown["flavor"]), shown["flavor"]
        assert set(_attachment_ids(c, sid)) == {root, data}
        for vid in (root, data):
            _attached_once_to(c, vid, sid)
        _both_in_guest(c, sid, root, data)

        # Shelve: offloaded at once, no image; the volumes stay reserved for the server.
        images_before = c.cli("member-a", "image", "list", "-f", "value", "-c", "ID")
        t0 = time.monotonic()
        c.cli("member-a", "server", "shelve", sid)
        _status(c, sid, "SHELVED_OFFLOADED")
        shelve_s = time.monotonic() - t0
        # (other tests of the same project may add images meanwhile: none is this one's)
        for image_id in set(c.cli("member-a", "image", "list", "-f", "value", "-c", "ID")
                            .split()) - set(images_before.split()):
            image = json.loads(c.cli("member-a", "image", "show", "-f", "json", image_id))
            assert (image.get("properties") or {}).get("instance_uuid") != sid, image
        for vid in (root, data):
            assert c.cinder("member-a", f"/volumes/{vid}")["volume"]["status"] == "reserved"
        t0 = time.monotonic()
        # Not --wait: openstackclient would wait for ever on a server that an unshelve
        # left SHELVED_OFFLOADED; the poll ends with the fault and the action's events.
        c.cli("member-a", "server", "unshelve", sid)
        _status(c, sid, "ACTIVE")
        unshelve_s = time.monotonic() - t0
        for vid in (root, data):
            _attached_once_to(c, vid, sid)
        _both_in_guest(c, sid, root, data)

        # Rebuild before 2.93, with its own image: the root volume is not re-imaged (as
        # Nova).
        t0 = time.monotonic()
        c.cli("member-a", "--os-compute-api-version", "2.92", "server", "rebuild",
              "--image", c.image_id, "--wait", sid, timeout=BOOT_TIMEOUT)
        _status(c, sid, "ACTIVE")
        rebuild_s = time.monotonic() - t0
        assert set(_attachment_ids(c, sid)) == {root, data}
        for vid in (root, data):
            _attached_once_to(c, vid, sid)
        _both_in_guest(c, sid, root, data)
        print(f"\nvolume-backed server with a data volume (same host): resize "
              f"{resize_s:.1f} s to VERIFY_RESIZE, shelve {shelve_s:.1f} s, unshelve "
              f"{unshelve_s:.1f} s, rebuild {rebuild_s:.1f} s")

        c.cli("member-a", "server", "remove", "volume", sid, data)
        c.wait_volume("member-a", data, "available")
    finally:
        c.run("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        c.wait_volume("member-a", data, "available")
        c.run("member-a", "volume", "delete", data)
