"""Unmodified python-openstackclient boots a real guest from a real Cinder volume (Ceph
RBD): `server create --boot-from-volume 1 --image ... --delete-on-termination --wait`
reaches ACTIVE, the guest's root disk is the RBD volume (the guest prints the serial of
its first disk, the volume's id, and its marker), `volume show` says in-use, stop and
start keep the volume, and `server delete` removes the volume it created. The same
image booted from a local disk gives the figure to compare with."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.functional.cinder.conftest import VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 240
MARKER = "NOVA-LITE-GUEST-UP"
DISK_MARKER = "NOVA-LITE-GUEST-DISK"
CONSOLE_TIMEOUT = 120


def _boot(c: VolumeCloud, name: str, *args: str) -> tuple[dict, float]:
    """Create with --wait; the server and the seconds until it was ACTIVE and its guest
    printed its marker."""
    t0 = time.monotonic()
    proc = c.run("member-a", "server", "create", "--flavor", "m1.nano", "--image",
                 c.image_id, "--nic", "none", *args, "--wait", "-f", "json", name,
                 timeout=BOOT_TIMEOUT)
    if proc.returncode != 0:  # the fault says why
        shown = c.run("member-a", "server", "show", name, "-f", "json")
        raise AssertionError(f"{proc.stderr}\n{shown.stdout}{shown.stderr}")
    server = json.loads(proc.stdout)
    assert server["status"] == "ACTIVE", server
    c.console_has(server["id"], MARKER, BOOT_TIMEOUT)
    return server, time.monotonic() - t0


def _status(c: VolumeCloud, server_id: str, status: str, timeout: float = 120) -> None:
    c.server_status(server_id, status, timeout)


def _volume_gone(c: VolumeCloud, volume_id: str, timeout: float = 90) -> None:
    """Cinder's API says 404 (polled), then so does openstackclient."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        me = c.login("member-a")
        resp = requests.get(f"{c.cinder_url.rstrip('/')}/{me.project_id}/volumes/{volume_id}",
                            headers={"X-Auth-Token": me.token}, timeout=60)
        if resp.status_code == 404:
            proc = c.run("member-a", "volume", "show", volume_id, "-f", "json")
            assert proc.returncode != 0 and "no volume" in proc.stderr.lower(), proc.stdout
            return
        time.sleep(1)
    raise AssertionError(f"volume {volume_id} still exists: {resp.text}")


def test_boot_from_volume_with_openstackclient(volume_cloud: VolumeCloud):
    c = volume_cloud
    made: list[str] = []
    try:
        image_server, image_s = _boot(c, "from-image")
        made.append(image_server["id"])
        server, volume_s = _boot(c, "from-volume", "--boot-from-volume", "1",
                                 "--delete-on-termination")
        sid = server["id"]
        made.append(sid)
        shown = json.loads(c.cli("member-a", "server", "show", sid, "-f", "json"))
        assert "booted from volume" in str(shown["image"]), shown["image"]
        [attached] = shown["volumes_attached"]
        vid = attached["id"]
        vol = c.wait_volume("member-a", vid, "in-use")
        assert vol["attachments"][0]["server_id"] == sid, vol
        assert str(vol["bootable"]).lower() == "true" and vol["size"] == 1, vol
        # The guest's first disk (vda) is the volume: its serial is the volume id.
        c.console_has(sid, f"{DISK_MARKER} vda={vid[:20]}", CONSOLE_TIMEOUT)
        xml = c.env.conn.lookupByUUIDString(sid).XMLDesc(0)
        assert f"volumes/volume-{vid}" in xml and "protocol='rbd'" in xml, xml

        c.cli("member-a", "server", "stop", sid)
        _status(c, sid, "SHUTOFF")
        assert c.wait_volume("member-a", vid, "in-use")["attachments"]
        c.cli("member-a", "server", "start", sid)
        _status(c, sid, "ACTIVE")

        c.cli("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        made.remove(sid)
        _volume_gone(c, vid)
        print(f"\nboot (server create --wait -> ACTIVE and the guest's marker): from the "
              f"image {image_s:.1f} s, from a new 1 GiB volume {volume_s:.1f} s")
    finally:
        for sid in made:
            c.run("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
