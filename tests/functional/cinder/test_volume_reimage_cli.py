"""Unmodified python-openstackclient rebuilds a server booted from a real Cinder volume
(Ceph RBD) with another image at microversion 2.93: `server rebuild --image OTHER
--reimage-boot-volume --wait` re-images the root volume through Cinder's os-reimage
(Cinder posts volume-reimaged back to this deployment) and the real libvirt guest boots
from it again. The other image's disk starts with another signature, which the guest
prints as it boots ("disk /dev/vda says: ..."), so the console shows that the volume now
holds the other image; `volume show` says in-use, the volume's image metadata names the
other image, it has one attachment, attached, and the server stays "booted from volume"
(its image "", as Nova keeps it). An image whose min_disk the volume does not meet is
Nova's 400 before anything happens."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.functional.cinder.conftest import VolumeCloud
from tests.functional.keystone import conftest as ks

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 240
OLD_DISK = "disk /dev/vda says: NOVA-LITE-TEST-DISK"
NEW_SIGNATURE = b"NOVA-LITE-REIMAGED!"  # 19 bytes, as the guest prints them
NEW_DISK = "disk /dev/vda says: NOVA-LITE-REIMAGED!"


def _other_image(c: VolumeCloud, glance_url: str, name: str, min_disk: int = 0) -> str:
    """A public raw image booted like the test image (its kernel, ramdisk and command
    line) whose disk holds NEW_SIGNATURE; its id. Made through Glance's API directly:
    not what is under test."""
    headers = {"X-Auth-Token": ks.login(c.keystone, "admin").token}
    base = requests.get(f"{glance_url}/v2/images/{c.image_id}", headers=headers,
                        timeout=30).json()
    meta = {k: base[k] for k in ("kernel_id", "ramdisk_id", "os_command_line")
            if k in base}
    resp = requests.post(f"{glance_url}/v2/images", headers=headers, timeout=30, json=dict(
        meta, name=name, disk_format="raw", container_format="bare", visibility="public",
        min_disk=min_disk))
    assert resp.status_code == 201, resp.text
    image_id = resp.json()["id"]
    data = NEW_SIGNATURE + b"\0" * (1024 * 1024 - len(NEW_SIGNATURE))
    resp = requests.put(f"{glance_url}/v2/images/{image_id}/file", data=data, timeout=60,
                        headers=dict(headers, **{"Content-Type": "application/octet-stream"}))
    assert resp.status_code == 204, resp.text
    return image_id


def test_rebuild_reimages_the_root_volume(volume_cloud: VolumeCloud, glance: ks.GlanceEnv):
    c = volume_cloud
    images: list[str] = []
    sid = None
    try:
        images.append(_other_image(c, glance.url, "reimage-new"))
        images.append(_other_image(c, glance.url, "reimage-big", min_disk=2))
        new, big = images
        proc = c.run("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                     c.image_id, "--boot-from-volume", "1", "--delete-on-termination",
                     "--nic", "none", "--wait", "-f", "json", "vb-reimage",
                     timeout=BOOT_TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        sid = json.loads(proc.stdout)["id"]
        [root] = [a["volumeId"] for a in c.compute(
            "member-a", "GET", f"/servers/{sid}/os-volume_attachments"
        ).json()["volumeAttachments"]]
        before = c.cinder("member-a", f"/attachments?volume_id={root}")["attachments"]
        vol = c.cinder("member-a", f"/volumes/{root}")["volume"]
        assert vol["volume_image_metadata"]["image_id"] == c.image_id, vol

        # The volume (1 GiB) is smaller than the image's min_disk: Nova's 400.
        proc = c.run("member-a", "server", "rebuild", "--image", big,
                     "--reimage-boot-volume", sid)
        assert proc.returncode != 0 and "Volume is smaller than the minimum size" in \
            proc.stderr, proc.stderr

        t0 = time.monotonic()
        proc = c.run("member-a", "server", "rebuild", "--image", new,
                     "--reimage-boot-volume", "--wait", sid, timeout=BOOT_TIMEOUT)
        assert proc.returncode == 0, f"{proc.stderr}\n{c.last_action(sid)}"
        shown = c.server_status(sid, "ACTIVE", BOOT_TIMEOUT)
        rebuild_s = time.monotonic() - t0
        # The new guest (its console log starts afresh) reads the new image's disk.
        log = c.console_has(sid, NEW_DISK, BOOT_TIMEOUT)
        assert OLD_DISK not in log, log
        boot_s = time.monotonic() - t0
        xml = c.env.conn.lookupByUUIDString(sid).XMLDesc(0)
        assert f"volumes/volume-{root}" in xml, xml

        assert shown["image"] == ""  # still booted from volume, as Nova keeps it
        assert [v["id"] for v in shown["os-extended-volumes:volumes_attached"]] == [root]
        c.wait_volume("member-a", root, "in-use")
        vol = c.cinder("member-a", f"/volumes/{root}")["volume"]
        assert vol["volume_image_metadata"]["image_id"] == new, vol
        after = c.cinder("member-a", f"/attachments?volume_id={root}")["attachments"]
        assert [(a["instance"], a["status"]) for a in after] == [(sid, "attached")], after
        assert after[0]["id"] != before[0]["id"]  # the reservation, attached again
        events = c.last_action(sid)["instanceAction"]["events"]
        assert [(e["event"], e["result"]) for e in events] == [
            ("compute_rebuild_instance", "Success")], events
        print(f"\nrebuild of a volume-backed server with another image (2.93, 1 GiB RBD "
              f"volume): {rebuild_s:.1f} s to ACTIVE, {boot_s:.1f} s until the guest "
              "read the new image")
    finally:
        if sid:
            c.run("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        for image in images:
            ks.glance_delete(glance.url, ks.login(c.keystone, "admin").token, image)
