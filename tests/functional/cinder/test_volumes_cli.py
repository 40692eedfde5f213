"""Unmodified python-openstackclient attaches a real Cinder volume (Ceph RBD) to a real
guest and detaches it: `volume create`, `server add volume`, `server volume list`,
`volume show` (in-use, then available), a swap onto another volume (admin, the
compute API), `server remove volume`. The guest prints the
serial of each disk as it appears and goes, so the test sees the volume inside it. A
volume in use elsewhere and another project's volume are refused; Cinder's own check
before a user deletes an attachment asks this deployment, which says it is attached.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.functional.cinder.conftest import ACCESS_LOG, VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 180
DISK_MARKER = "NOVA-LITE-GUEST-DISK"
CONSOLE_TIMEOUT = 90


def _access_lines() -> int:
    with open(ACCESS_LOG) as f:
        return sum(1 for _ in f)


def _cinder_calls_since(start: int) -> list[str]:
    """The requests nova_lite's services made to Cinder (their user agents start with
    nova-lite-) after line ``start``."""
    with open(ACCESS_LOG) as f:
        lines = f.readlines()[start:]
    return [m.group(1) for line in lines
            if (m := re.search(r'"([A-Z]+ \S+) HTTP[^"]*" .* "nova-lite-', line))]


def test_attach_and_detach_a_volume_with_openstackclient(volume_cloud: VolumeCloud):
    c = volume_cloud
    servers = [json.loads(c.cli(
        "member-a", "server", "create", "--flavor", "m1.nano", "--image", c.image_id,
        "--nic", "none", "--wait", "-f", "json", name, timeout=BOOT_TIMEOUT))["id"]
        for name in ("vol-guest", "vol-other")]
    sid, other = servers
    vid = json.loads(c.cli("member-a", "volume", "create", "--size", "1", "-f", "json",
                           "osc-vol"))["id"]
    bid = json.loads(c.cli("member-b", "volume", "create", "--size", "1", "-f", "json",
                           "osc-vol-b"))["id"]
    vid2 = json.loads(c.cli("member-a", "volume", "create", "--size", "1", "-f", "json",
                            "osc-vol-2"))["id"]
    try:
        c.wait_volume("member-a", vid, "available")
        c.wait_volume("member-b", bid, "available")
        c.console_has(sid, "NOVA-LITE-GUEST-UP", BOOT_TIMEOUT)

        calls_from = _access_lines()
        t0 = time.monotonic()
        c.cli("member-a", "server", "add", "volume", sid, vid)
        vol = c.wait_volume("member-a", vid, "in-use")
        attach_s = time.monotonic() - t0
        calls = _cinder_calls_since(calls_from)
        assert vol["attachments"][0]["server_id"] == sid, vol
        listed = json.loads(c.cli("member-a", "server", "volume", "list", sid, "-f", "json"))
        assert [(a["Volume ID"], a["Device"]) for a in listed] == [(vid, "/dev/vdb")], listed
        # Inside the guest: a new virtio disk whose serial is the volume's id.
        c.console_has(sid, f"{DISK_MARKER} vdb={vid[:20]}", CONSOLE_TIMEOUT)
        shown = c.compute("member-a", "GET", f"/servers/{sid}/os-volume_attachments/{vid}")
        assert shown.status_code == 200, shown.text
        attachment_id = shown.json()["volumeAttachment"]["attachment_id"]

        # Refused: the volume in use by another server; another project's volume.
        proc = c.run("member-a", "server", "add", "volume", other, vid)
        assert proc.returncode != 0 and "400" in proc.stderr, proc.stderr
        proc = c.run("member-a", "server", "add", "volume", sid, bid)
        assert proc.returncode != 0, proc.stderr
        resp = c.compute("member-a", "POST", f"/servers/{sid}/os-volume_attachments",
                         json={"volumeAttachment": {"volumeId": bid}})
        assert resp.status_code == 404, resp.text
        assert c.wait_volume("member-b", bid, "available")["attachments"] == []
        # Cinder asks this deployment before a user deletes the attachment: refused.
        proc = c.run("member-a", "--os-volume-api-version", "3.44", "volume", "attachment",
                     "delete", attachment_id)
        assert proc.returncode != 0 and "409" in proc.stderr, proc.stderr

        # Swap (admin): the running guest's disk is copied onto the second volume.
        c.wait_volume("member-a", vid2, "available")
        t0 = time.monotonic()
        resp = c.compute("admin", "PUT", f"/servers/{sid}/os-volume_attachments/{vid}",
                         json={"volumeAttachment": {"volumeId": vid2}})
        assert resp.status_code == 202, resp.text
        c.wait_volume("member-a", vid2, "in-use")
        c.wait_volume("member-a", vid, "available")
        swap_s = time.monotonic() - t0
        listed = json.loads(c.cli("member-a", "server", "volume", "list", sid, "-f", "json"))
        assert [(a["Volume ID"], a["Device"]) for a in listed] == [(vid2, "/dev/vdb")]

        t0 = time.monotonic()
        c.cli("member-a", "server", "remove", "volume", sid, vid2)
        c.wait_volume("member-a", vid2, "available")
        detach_s = time.monotonic() - t0
        # the guest still knows the disk by the serial it was plugged in with
        c.console_has(sid, f"{DISK_MARKER}-GONE vdb={vid[:20]}", CONSOLE_TIMEOUT)
        gone = c.compute("member-a", "GET", f"/servers/{sid}/os-volume_attachments/{vid2}")
        assert gone.status_code == 404, gone.text
        assert json.loads(c.cli("member-a", "server", "volume", "list", sid,
                                "-f", "json")) == []
        print(f"\nattach (server add volume -> in-use): {attach_s:.1f} s; swap (PUT -> "
              f"new in-use, old available): {swap_s:.1f} s; detach (server remove volume "
              f"-> available): {detach_s:.1f} s; nova_lite's Cinder calls per attach: "
              f"{len(calls)}: {calls}")
    finally:
        for volume_id in (vid, vid2):
            if c.run("member-a", "server", "remove", "volume", sid, volume_id).returncode == 0:
                c.wait_volume("member-a", volume_id, "available")
        for server in servers:
            c.run("member-a", "server", "delete", "--wait", server)
        c.run("member-a", "volume", "delete", vid)
        c.run("member-a", "volume", "delete", vid2)
        c.run("member-b", "volume", "delete", bid)
