"""Unmodified python-openstackclient boots a real guest with local ephemeral and swap disks
and a new volume of a chosen type (`server create --ephemeral --swap --block-device
...volume_type=...`, 2.67): the libvirt host makes the local disks as qcow2 files in the
instance directory (the ephemeral one, asked for without a format, made with Nova's
default filesystem for an image without os_type: vfat, labelled ephemeral0), the guest
sees each disk at its size (it prints them), Cinder makes the volume with that type,
`server volume list` shows only the volume, and `server delete` removes it. A volume
type Cinder does not have is a 400.

The attached volume is then extended (`volume set --size`, volume API 3.42): Cinder grows
the RBD image and sends volume-extended to this deployment (its [nova] section, the
catalog's compute endpoint), the host resizes the guest's disk and the guest sees the new
size; the server's actions record extend_volume."""

from __future__ import annotations

import json
import os
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from tests.functional.cinder.conftest import VolumeCloud

pytestmark = [pytest.mark.keystone, pytest.mark.libvirt, pytest.mark.slow]

BOOT_TIMEOUT = 240
CONSOLE_TIMEOUT = 120
SIZE_MARKER = "NOVA-LITE-GUEST-DISK-SIZE"
MiB, GiB = 1024 ** 2, 1024 ** 3


def _filesystem(qcow2: str, head: str) -> dict:
    """blkid's TYPE and LABEL of the head of a qcow2 disk (read beside the guest): 16
    MiB hold a 2 GiB FAT32's boot sector, both FATs and the root directory (its label)."""
    subprocess.run(["qemu-img", "dd", "-U", "-f", "qcow2", "-O", "raw", "bs=1M",
                    "count=16", f"if={qcow2}", f"of={head}"], check=True)
    out = subprocess.run(["blkid", "-p", "-o", "export", head], capture_output=True,
                         text=True, check=True).stdout
    found = dict(line.split("=", 1) for line in out.split())
    return {k: found.get(k) for k in ("TYPE", "LABEL")}


def test_local_disks_and_a_typed_volume_with_openstackclient(volume_cloud: VolumeCloud):
    c = volume_cloud
    suffix = os.path.basename(c.dep.workdir).rsplit("-", 1)[-1].lower()
    flavor, vtype = f"nl-eph-{suffix}", f"nl-rbd-{suffix}"
    c.cli("admin", "flavor", "create", "--ram", "128", "--vcpus", "1", "--disk", "1",
          "--ephemeral", "2", "--swap", "64", "--public", flavor)
    c.cli("admin", "volume", "type", "create", "--property", "volume_backend_name=ceph",
          vtype)
    sid = None
    try:
        common = ["--os-compute-api-version", "2.67", "server", "create", "--flavor",
                  flavor, "--image", c.image_id, "--nic", "none"]
        proc = c.run("member-a", *common, "--block-device",
                     "source_type=blank,destination_type=volume,volume_size=1,"
                     "volume_type=nl-no-such-type", "refused")
        assert proc.returncode != 0 and "Volume type nl-no-such-type could not be " \
                                        "found" in proc.stderr, proc.stderr

        t0 = time.monotonic()
        proc = c.run("member-a", *common, "--ephemeral", "size=2", "--swap",
                     "32", "--block-device",
                     "source_type=blank,destination_type=volume,volume_size=1,"
                     f"volume_type={vtype},delete_on_termination=true",
                     "--wait", "-f", "json", "local-disks", timeout=BOOT_TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        server = json.loads(proc.stdout)
        sid = server["id"]
        assert server["status"] == "ACTIVE", server
        [attached] = json.loads(c.cli("member-a", "server", "volume", "list", sid,
                                      "-f", "json"))
        vid = attached["Volume ID"]
        vol = c.wait_volume("member-a", vid, "in-use")
        assert vol["type"] == vtype, vol
        # The guest names its disks in PCI order, whatever the targets say: each is
        # found by what tells it apart (the volume by its serial, the others by size).
        c.console_has(sid, f"={vid[:20]}", CONSOLE_TIMEOUT)
        c.console_has(sid, f"={2 * GiB}", CONSOLE_TIMEOUT)  # the ephemeral disk
        c.console_has(sid, f"={32 * MiB}", CONSOLE_TIMEOUT)  # the swap disk
        boot_s = time.monotonic() - t0
        log = c.cli("member-a", "console", "log", "show", sid)
        sizes = [line for line in log.splitlines() if line.startswith(SIZE_MARKER)]
        assert len(sizes) == 4, sizes  # root, ephemeral, swap, volume
        xml = c.env.conn.lookupByUUIDString(sid).XMLDesc(0)
        for name in ("disk.eph0", "disk.swap"):
            assert f"/{sid}/{name}'" in xml, xml
        eph = next(d.get("file") for d in ET.fromstring(xml).iter("source")
                   if (d.get("file") or "").endswith("/disk.eph0"))
        assert _filesystem(eph, os.path.join(c.dep.workdir, "eph0-head.raw")) == \
            {"TYPE": "vfat", "LABEL": "ephemeral0"}

        t0 = time.monotonic()
        c.cli("member-a", "--os-volume-api-version", "3.42", "volume", "set", "--size",
              "3", vid)
        c.console_has(sid, f"={vid[:20]}", CONSOLE_TIMEOUT)
        log = c.console_has(sid, f"={3 * GiB}", CONSOLE_TIMEOUT)
        extend_s = time.monotonic() - t0
        assert c.wait_volume("member-a", vid, "in-use")["size"] == 3
        actions = json.loads(c.cli("member-a", "server", "event", "list", sid,
                                   "-f", "json"))
        assert "extend_volume" in [a["Action"] for a in actions], actions
        print(f"\nboot with an ephemeral, a swap and a new typed volume (server create "
              f"--wait -> the guest sees them): {boot_s:.1f} s; volume set --size 3 of "
              f"the attached volume -> the guest sees 3 GiB: {extend_s:.1f} s")

        c.cli("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        sid = None
        deadline = time.monotonic() + 90
        while c.run("member-a", "volume", "show", vid).returncode == 0:
            assert time.monotonic() < deadline, f"volume {vid} was not deleted"
            time.sleep(1)
    finally:
        if sid:
            c.run("member-a", "server", "delete", "--wait", sid, timeout=BOOT_TIMEOUT)
        c.run("admin", "flavor", "delete", flavor)
        c.run("admin", "volume", "type", "delete", vtype)
