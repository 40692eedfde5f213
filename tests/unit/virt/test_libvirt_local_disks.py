"""Local ephemeral and swap disks of libvirt guests: real qcow2 files (qemu-img, mkswap,
mkfs) in the instance directory, listed so every definition attaches them."""

from __future__ import annotations

import json
import subprocess
import types
import xml.etree.ElementTree as ET

import pytest

from nova_lite.virt.driver import DriverError
from nova_lite.virt.libvirt import local_disks

DISKS = [{"device_name": "vdc", "disk_bus": "virtio", "guest_format": None, "swap": False,
          "size_mb": 1024, "file": "disk.eph0"},
         {"device_name": "vdd", "disk_bus": "virtio", "guest_format": None, "swap": True,
          "size_mb": 64, "file": "disk.swap"},
         {"device_name": "vde", "disk_bus": "virtio", "guest_format": "ext4",
          "swap": False, "size_mb": 32, "file": "disk.eph1"}]


def _info(path) -> dict:
    return json.loads(subprocess.run(["qemu-img", "info", "--output=json", str(path)],
                                     check=True, capture_output=True, text=True).stdout)


def _raw_head(path, tmp_path) -> bytes:
    raw = tmp_path / "check.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(path), str(raw)], check=True)
    return raw.read_bytes()


def test_files_are_qcow2_of_the_asked_sizes_and_formats(tmp_path):
    local_disks.create(str(tmp_path), DISKS)
    sizes = {d["file"]: _info(tmp_path / d["file"]) for d in DISKS}
    assert {k: (v["format"], v["virtual-size"]) for k, v in sizes.items()} == {
        "disk.eph0": ("qcow2", 1024 ** 3), "disk.swap": ("qcow2", 64 * 1024 ** 2),
        "disk.eph1": ("qcow2", 32 * 1024 ** 2)}
    head = _raw_head(tmp_path / "disk.swap", tmp_path)
    assert head[4086:4096] == b"SWAPSPACE2"  # mkswap's signature at the page's end
    ext = _raw_head(tmp_path / "disk.eph1", tmp_path)
    assert ext[1080:1082] == b"\x53\xef"  # the ext superblock's magic
    assert local_disks.listed(str(tmp_path)) == DISKS
    local_disks.create(str(tmp_path), DISKS)  # again: nothing remade


def test_listed_disks_join_the_guest_before_its_volumes(tmp_path):
    local_disks.create(str(tmp_path), DISKS[:2])
    guest = types.SimpleNamespace(volume_disks=[ET.Element("disk", {"type": "network"})])
    local_disks.add_to_guest(guest, str(tmp_path))
    assert [(d.get("type"), d.find("target").get("dev") if d.find("target") is not None
             else None) for d in guest.volume_disks] == [
        ("file", "vdc"), ("file", "vdd"), ("network", None)]
    assert guest.volume_disks[0].find("source").get("file") == str(tmp_path / "disk.eph0")
    empty = types.SimpleNamespace(volume_disks=[])
    local_disks.add_to_guest(empty, str(tmp_path / "none"))
    assert empty.volume_disks == []


def _blkid(path, tmp_path) -> dict:
    raw = tmp_path / "probe.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(path), str(raw)], check=True)
    out = subprocess.run(["blkid", "-p", "-o", "export", str(raw)], check=True,
                         capture_output=True, text=True).stdout
    return dict(line.split("=", 1) for line in out.split())


@pytest.mark.parametrize("fmt", ["vfat", "ext4"])
def test_an_ephemeral_disk_is_made_with_its_filesystem_and_label(tmp_path, fmt):
    disk = dict(DISKS[0], guest_format=fmt, label="ephemeral0", size_mb=64)
    local_disks.create(str(tmp_path), [disk])
    found = _blkid(tmp_path / "disk.eph0", tmp_path)
    assert (found["TYPE"], found["LABEL"]) == (fmt, "ephemeral0")


def test_a_format_this_host_cannot_make_is_a_driver_error(tmp_path):
    with pytest.raises(DriverError, match="mkfs.nosuchfs"):
        local_disks.create(str(tmp_path), [dict(DISKS[0], guest_format="nosuchfs")])


def test_a_move_within_the_host_copies_them(tmp_path):
    src, dest = tmp_path / "a", tmp_path / "b"
    src.mkdir()
    dest.mkdir()
    local_disks.copy(str(src), str(dest))  # none: nothing to do
    assert list(dest.iterdir()) == []
    local_disks.create(str(src), DISKS[:1])
    local_disks.copy(str(src), str(dest))
    assert local_disks.listed(str(dest)) == DISKS[:1]
    assert _info(dest / "disk.eph0")["virtual-size"] == 1024 ** 3
