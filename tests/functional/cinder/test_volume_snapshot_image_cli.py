"""Unmodified python-openstackclient takes an image of a server booted from a real Cinder
volume (Ceph RBD) and boots from it: `server image create --wait` makes a Cinder
snapshot of the root volume and an active image without data that maps it (bdm_v2);
`server create --image <that image>` boots a new guest from a new volume made from the
snapshot (the guest's first disk has the new volume's serial). `server backup create`
of a volume-backed server is refused, as by Nova."""

from __future__ import annotations

import json
import time

import pytest

from tests.functional.cinder.conftest import VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 240
MARKER = "NOVA-LITE-GUEST-UP"
DISK_MARKER = "NOVA-LITE-GUEST-DISK"


def _wait_snapshot(c: VolumeCloud, snapshot_id: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    snap: dict = {}
    while time.monotonic() < deadline:
        snap = c.cinder("member-a", f"/snapshots/{snapshot_id}")["snapshot"]
        if snap["status"] == "available":
            return
        time.sleep(1)
    raise AssertionError(f"snapshot {snapshot_id} is {snap.get('status')}")


def _gone(c: VolumeCloud, path: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c.cinder("member-a", path, expect=404)
            return
        except AssertionError:
            time.sleep(1)
    raise AssertionError(f"{path} still exists")


def _boot(c: VolumeCloud, name: str, *args: str) -> dict:
    proc = c.run("member-a", "server", "create", "--flavor", "m1.nano", "--nic", "none",
                 *args, "--wait", "-f", "json", name, timeout=BOOT_TIMEOUT)
    if proc.returncode != 0:
        shown = c.run("member-a", "server", "show", name, "-f", "json")
        raise AssertionError(f"{proc.stderr}\n{shown.stdout}{shown.stderr}")
    server = json.loads(proc.stdout)
    assert server["status"] == "ACTIVE", server
    return server


def test_image_of_a_volume_backed_server_with_openstackclient(volume_cloud: VolumeCloud):
    c = volume_cloud
    made: list[str] = []
    image_id = None
    snapshot_id = None
    try:
        t0 = time.monotonic()
        first = _boot(c, "vb-origin", "--image", c.image_id, "--boot-from-volume", "1",
                      "--delete-on-termination")
        made.append(first["id"])
        [root] = json.loads(c.cli("member-a", "server", "show", first["id"], "-f",
                                  "json"))["volumes_attached"]
        c.console_has(first["id"], MARKER, BOOT_TIMEOUT)

        t1 = time.monotonic()
        image = json.loads(c.cli("member-a", "server", "image", "create", "--name",
                                 "vb-snap", "--wait", "-f", "json", first["id"]))
        image_s = time.monotonic() - t1
        image_id = image["id"]
        shown = json.loads(c.cli("member-a", "image", "show", image_id, "-f", "json"))
        assert shown["status"] == "active" and shown["size"] == 0, shown
        props = shown["properties"]
        assert str(props["bdm_v2"]).lower() == "true", props
        assert props["root_device_name"] == "/dev/vda", props
        [mapping] = json.loads(props["block_device_mapping"])
        [snap] = c.cinder("member-a", f"/snapshots?volume_id={root['id']}")["snapshots"]
        snapshot_id = snap["id"]
        assert (mapping["source_type"], mapping["destination_type"], mapping["boot_index"],
                mapping["snapshot_id"], mapping["volume_size"],
                mapping["delete_on_termination"]) == (
            "snapshot", "volume", 0, snapshot_id, 1, True), mapping
        _wait_snapshot(c, snapshot_id)

        proc = c.run("member-a", "server", "backup", "create", "--name", "vb-backup",
                     first["id"])
        assert proc.returncode != 0, proc.stdout
        assert "Backup is not supported for volume-backed instances." in proc.stderr, \
            proc.stderr

        second = _boot(c, "vb-from-snap", "--image", image_id)
        made.append(second["id"])
        shown = json.loads(c.cli("member-a", "server", "show", second["id"], "-f", "json"))
        assert image_id in str(shown["image"]), shown["image"]
        [new_root] = shown["volumes_attached"]
        assert new_root["id"] != root["id"]
        vol = c.cinder("member-a", f"/volumes/{new_root['id']}")["volume"]
        assert vol["snapshot_id"] == snapshot_id and vol["status"] == "in-use", vol
        c.console_has(second["id"], f"{DISK_MARKER} vda={new_root['id'][:20]}",
                      BOOT_TIMEOUT)

        c.cli("member-a", "server", "delete", "--wait", second["id"], timeout=BOOT_TIMEOUT)
        made.remove(second["id"])
        _gone(c, f"/volumes/{new_root['id']}")  # delete_on_termination from the image
        c.cli("member-a", "volume", "snapshot", "delete", snapshot_id)
        _gone(c, f"/snapshots/{snapshot_id}")
        snapshot_id = None
        print(f"\nvolume-backed createImage: {image_s:.1f} s (whole flow "
              f"{time.monotonic() - t0:.1f} s)")
    finally:
        for sid in reversed(made):
            c.run("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        if snapshot_id:
            c.run("member-a", "volume", "snapshot", "delete", snapshot_id)
        if image_id:
            c.run("member-a", "image", "delete", image_id)
