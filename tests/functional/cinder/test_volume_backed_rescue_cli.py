"""Unmodified python-openstackclient rescues a server booted from a real Cinder volume
(Ceph RBD) on the real libvirt host: Nova's stable device rescue (API 2.87). The rescue
image carries ``hw_rescue_device=disk`` (set with `image set --property`) and its own
kernel command line, which the guest's kernel prints as it boots. `server rescue
--image` reaches RESCUE with the guest booted from the rescue image (boot order 1 on
its disk, its command line on the console) and the root volume still its first disk
(vda, with the volume's serial), the rescue disk after it; volume attach is refused
while rescued; `server unrescue` boots it from the root volume again; the Cinder
attachments are the same throughout. An image without the properties, or 2.86, gets
Nova's 400."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET

import pytest

from tests.functional import guest_console
from tests.functional.cinder.conftest import VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 240
MARKER = "NOVA-LITE-GUEST-UP"
DISK_MARKER = "NOVA-LITE-GUEST-DISK"
RESCUE_TOKEN = "nova_lite_rescue=1"  # on the rescue image's kernel command line
RESCUE_SIZE = 1024 * 1024


def _attachments(c: VolumeCloud, sid: str) -> dict[str, str]:
    resp = c.compute("member-a", "GET", f"/servers/{sid}/os-volume_attachments")
    assert resp.status_code == 200, resp.text
    return {a["volumeId"]: a["attachment_id"] for a in resp.json()["volumeAttachments"]}


def _rescue_image(c: VolumeCloud) -> str:
    """member-a's image: a 1 MiB raw disk booted with the test image's kernel and
    ramdisk, with its own command line, and hw_rescue_device=disk."""
    props = json.loads(c.cli("admin", "image", "show", c.image_id, "-f", "json"))
    props = props.get("properties") or {}
    path = os.path.join(c.dep.workdir, "vb-rescue.raw")
    with open(path, "wb") as f:
        f.truncate(RESCUE_SIZE)
    cmdline = (props.get("os_command_line") or "console=ttyS0") + f" {RESCUE_TOKEN}"
    image = json.loads(c.cli(
        "member-a", "image", "create", "--file", path, "--disk-format", "raw",
        "--container-format", "bare", "--property", f"kernel_id={props['kernel_id']}",
        "--property", f"ramdisk_id={props['ramdisk_id']}",
        "--property", f"os_command_line={cmdline}", "-f", "json", "vb-rescue"))
    c.cli("member-a", "image", "set", "--property", "hw_rescue_device=disk", image["id"])
    return image["id"]


def _domain_disks(c: VolumeCloud, sid: str) -> list[ET.Element]:
    return ET.fromstring(c.env.conn.lookupByUUIDString(sid).XMLDesc(0)).findall(
        "./devices/disk")


def _wait_count(c: VolumeCloud, sid: str, text: str, count: int) -> str:
    """The console log through openstackclient, once it holds ``text`` ``count`` times
    (waited for over the API)."""
    guest_console.wait_console(f"{c.dep.url}/v2.1", c.login("member-a").token, sid,
                               lambda log: log.count(text) >= count, BOOT_TIMEOUT)
    return c.cli("member-a", "console", "log", "show", sid)


def test_rescue_and_unrescue_a_volume_backed_server(volume_cloud: VolumeCloud):
    c = volume_cloud
    proc = c.run("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                 c.image_id, "--boot-from-volume", "1", "--delete-on-termination",
                 "--nic", "none", "--wait", "-f", "json", "vb-rescue", timeout=BOOT_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    sid = json.loads(proc.stdout)["id"]
    image = None
    try:
        [root] = _attachments(c, sid)
        c.console_has(sid, f"{DISK_MARKER} vda={root[:20]}", BOOT_TIMEOUT)
        before = _attachments(c, sid)
        image = _rescue_image(c)

        # Nova's 400: an image without hw_rescue_*, and the stable image before 2.87.
        for args in (("--image", c.image_id), ("--image", image)):
            version = ("--os-compute-api-version", "2.86") if args[1] == image else ()
            proc = c.run("member-a", *version, "server", "rescue", *args, sid)
            assert proc.returncode != 0, proc.stdout
            assert (f"Instance {sid} cannot be rescued: Cannot rescue a volume-backed "
                    "instance") in proc.stderr and "400" in proc.stderr, proc.stderr
        assert c.server_status(sid, "ACTIVE", 30)

        markers = c.cli("member-a", "console", "log", "show", sid).count(MARKER)
        t0 = time.monotonic()
        c.cli("member-a", "server", "rescue", "--image", image, sid)
        c.server_status(sid, "RESCUE", BOOT_TIMEOUT)
        log = _wait_count(c, sid, MARKER, markers + 1)
        rescue_s = time.monotonic() - t0
        rescued = log[log.rindex("Kernel command line:"):]
        assert RESCUE_TOKEN in rescued.splitlines()[0], rescued[:500]
        # the root volume stays vda with its serial; the rescue disk follows it
        log = c.console_has(sid, f"{DISK_MARKER}-SIZE vdb={RESCUE_SIZE}", 60)
        assert f"{DISK_MARKER} vda={root[:20]}" in log[log.rindex("Kernel command line:"):]
        disks = _domain_disks(c, sid)
        assert disks[0].find("source").get("name") == f"volumes/volume-{root}"
        assert disks[0].findtext("serial") == root and disks[0].find("boot") is None
        assert disks[-1].find("source").get("file").endswith("/disk.rescue")
        assert disks[-1].find("target").attrib == {"dev": "vdb", "bus": "virtio"}
        assert disks[-1].find("boot").get("order") == "1"
        assert _attachments(c, sid) == before
        assert c.cinder("member-a", f"/volumes/{root}")["volume"]["status"] == "in-use"

        # No volume changes while rescued (Nova's 409).
        proc = c.run("member-a", "server", "add", "volume", sid, root)
        assert proc.returncode != 0 and "409" in proc.stderr, proc.stderr
        assert "while it is in vm_state rescued" in proc.stderr, proc.stderr

        t0 = time.monotonic()
        c.cli("member-a", "server", "unrescue", sid)
        c.server_status(sid, "ACTIVE", BOOT_TIMEOUT)
        log = _wait_count(c, sid, MARKER, markers + 2)
        unrescue_s = time.monotonic() - t0
        booted = log[log.rindex("Kernel command line:"):]
        assert RESCUE_TOKEN not in booted.splitlines()[0], booted[:500]
        c.console_has(sid, f"{DISK_MARKER} vda={root[:20]}", 60)
        disks = _domain_disks(c, sid)
        assert [d.find("source").get("name") for d in disks] == [f"volumes/volume-{root}"]
        assert _attachments(c, sid) == before
        listed = c.cinder("member-a", f"/attachments?volume_id={root}")["attachments"]
        assert [(a["instance"], a["status"]) for a in listed] == [(sid, "attached")]
        print(f"\nvolume-backed rescue: {rescue_s:.1f} s to the rescue guest's marker, "
              f"unrescue {unrescue_s:.1f} s to the marker from the volume")
    finally:
        c.run("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        if image:
            c.run("member-a", "image", "delete", image)
