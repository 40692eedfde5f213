"""Unmodified python-openstackclient shares one real Cinder volume (Ceph RBD) between two
real guests: a volume type with ``multiattach="<is> True"``, `volume create --type`,
`server add volume` refused before compute API 2.60 and accepted from it on both
servers; each guest sees the disk by its serial and each domain has it ``<shareable/>``
without host cache; swap is refused while both write to it; `server remove volume`
from one leaves the other attached and the volume in-use; attached to both again,
deleting one server leaves it in-use by the other, and deleting that one too makes it
available."""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET

import pytest

from tests.functional.cinder.conftest import VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 180
CONSOLE_TIMEOUT = 90
DISK_MARKER = "NOVA-LITE-GUEST-DISK"
V260 = ("--os-compute-api-version", "2.60")


def _volume_disk(c: VolumeCloud, sid: str, vid: str) -> ET.Element | None:
    dom = ET.fromstring(c.env.conn.lookupByUUIDString(sid).XMLDesc(0))
    return next((d for d in dom.findall("./devices/disk") if d.findtext("serial") == vid),
                None)


def _attached_to(c: VolumeCloud, vid: str) -> list[str]:
    atts = c.cinder("member-a", f"/volumes/{vid}")["volume"]["attachments"]
    return sorted(a["server_id"] for a in atts)


def _wait_attached(c: VolumeCloud, vid: str, servers: list[str]) -> None:
    deadline = time.monotonic() + 60
    while _attached_to(c, vid) != sorted(servers):
        assert time.monotonic() < deadline, (_attached_to(c, vid), servers)
        time.sleep(0.5)


def test_one_volume_on_two_guests_with_openstackclient(volume_cloud: VolumeCloud):
    c = volume_cloud
    suffix = os.path.basename(c.dep.workdir).rsplit("-", 1)[-1].lower()
    vtype = f"nl-multiattach-{suffix}"
    c.cli("admin", "volume", "type", "create", "--property", "multiattach=<is> True",
          "--property", "volume_backend_name=ceph", vtype)
    servers: list[str] = []
    vid = None
    try:
        vid = json.loads(c.cli("member-a", "volume", "create", "--size", "1", "--type",
                               vtype, "-f", "json", "shared"))["id"]
        vol = c.wait_volume("member-a", vid, "available")
        assert vol["multiattach"] is True, vol
        servers = [json.loads(c.cli(
            "member-a", "server", "create", "--flavor", "m1.nano", "--image", c.image_id,
            "--nic", "none", "--wait", "-f", "json", name, timeout=BOOT_TIMEOUT))["id"]
            for name in ("shared-1", "shared-2")]
        one, two = servers
        for sid in servers:
            c.console_has(sid, "NOVA-LITE-GUEST-UP", BOOT_TIMEOUT)

        proc = c.run("member-a", "--os-compute-api-version", "2.59", "server", "add",
                     "volume", one, vid)
        assert proc.returncode != 0 and "Multiattach volumes are only supported " \
            "starting with compute API version 2.60." in proc.stderr, proc.stderr
        assert c.wait_volume("member-a", vid, "available")["attachments"] == []

        t0 = time.monotonic()
        for sid in servers:
            c.cli("member-a", *V260, "server", "add", "volume", sid, vid)
            c.wait_volume("member-a", vid, "in-use")
        _wait_attached(c, vid, servers)
        attach_s = time.monotonic() - t0
        for sid in servers:  # each guest sees the disk by its serial
            c.console_has(sid, f"={vid[:20]}", CONSOLE_TIMEOUT)
            disk = _volume_disk(c, sid, vid)
            assert disk is not None and disk.find("shareable") is not None, \
                ET.tostring(disk) if disk is not None else sid
            assert disk.find("driver").get("cache") == "none"

        new = json.loads(c.cli("member-a", "volume", "create", "--size", "1", "-f",
                               "json", "swap-target"))["id"]
        try:
            c.wait_volume("member-a", new, "available")
            resp = c.compute("admin", "PUT",
                             f"/servers/{one}/os-volume_attachments/{vid}",
                             json={"volumeAttachment": {"volumeId": new}})
            assert resp.status_code == 400 and "Swapping multi-attach volumes with more " \
                "than one read/write attachment is not supported." in resp.text, resp.text
            assert c.wait_volume("member-a", new, "available")["attachments"] == []
        finally:
            c.run("member-a", "volume", "delete", new)

        t0 = time.monotonic()
        c.cli("member-a", "server", "remove", "volume", one, vid)
        _wait_attached(c, vid, [two])
        detach_s = time.monotonic() - t0
        assert c.wait_volume("member-a", vid, "in-use")
        c.console_has(one, f"{DISK_MARKER}-GONE", CONSOLE_TIMEOUT)
        assert _volume_disk(c, one, vid) is None and _volume_disk(c, two, vid) is not None
        listed = json.loads(c.cli("member-a", "server", "volume", "list", two, "-f",
                                  "json"))
        assert [a["Volume ID"] for a in listed] == [vid], listed

        # attached to both again, then one server goes: the other keeps the volume
        c.cli("member-a", *V260, "server", "add", "volume", one, vid)
        _wait_attached(c, vid, servers)
        c.cli("member-a", "server", "delete", "--wait", two, timeout=BOOT_TIMEOUT)
        servers.remove(two)
        _wait_attached(c, vid, [one])
        assert c.wait_volume("member-a", vid, "in-use")
        assert _volume_disk(c, one, vid) is not None
        c.cli("member-a", "server", "delete", "--wait", one, timeout=BOOT_TIMEOUT)
        servers.remove(one)
        c.wait_volume("member-a", vid, "available")
        print(f"\nmultiattach (libvirt, real Cinder): attach to two guests {attach_s:.1f} "
              f"s, detach from one {detach_s:.1f} s")
    finally:
        for sid in servers:
            c.run("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        if vid:
            c.wait_volume("member-a", vid, "available")
            c.run("member-a", "volume", "delete", vid)
        c.run("admin", "volume", "type", "delete", vtype)
