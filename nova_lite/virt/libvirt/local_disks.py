"""A guest's local ephemeral and swap disks: qcow2 files in its instance directory.

The compute host hands the driver each blank local mapping (device, size, guest_format
and label, whether it is swap, and the file name Nova gives it: disk.eph<N>, disk.swap).
A swap disk is made with mkswap, an ephemeral disk with mkfs.<guest_format> and its
label (the compute host has chosen the filesystem as Nova: the mapping's, else [DEFAULT]
default_ephemeral_format, else the OS type's), both on a raw file then turned into
qcow2; guest_format ``none`` leaves an empty qcow2 image. What was made is listed in
``local_disks.json`` beside them, so every later definition of the domain attaches them
again.
"""

from __future__ import annotations

import json
import os
import shutil
import xml.etree.ElementTree as ET
from typing import Any

from nova_lite.virt.driver import DriverError
from nova_lite.virt.libvirt import disk_files

MANIFEST = "local_disks.json"
MiB = 1024 ** 2


def _formatter(disk: dict) -> list[str] | None:
    """The command that formats a raw file for this disk, None when it stays empty."""
    if disk.get("swap"):
        return ["mkswap"]
    fmt = disk.get("guest_format")
    if not fmt or fmt == "none":
        return None
    tool = f"mkfs.{fmt}"
    if shutil.which(tool) is None:
        raise DriverError(f"guest_format {fmt} cannot be made on this host ({tool} is "
                          "not installed)")
    cmd = [tool, "-F"] if fmt.startswith("ext") or fmt == "ntfs" else [tool]
    if disk.get("label"):  # FAT's label option differs from every other mkfs's
        cmd += ["-n" if fmt in ("vfat", "msdos") else "-L", disk["label"]]
    return cmd


def _make(path: str, disk: dict) -> None:
    size = int(disk["size_mb"]) * MiB
    formatter = _formatter(disk)
    if formatter is None:
        disk_files.run(["qemu-img", "create", "-q", "-f", "qcow2", path, str(size)])
    else:
        raw = path + ".raw"
        try:
            with open(raw, "wb") as f:
                f.truncate(size)
            disk_files.run([*formatter, raw])
            disk_files.run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, path])
        finally:
            if os.path.exists(raw):
                os.unlink(raw)
    os.chmod(path, 0o644)


def create(inst_dir: str, disks: list[dict]) -> None:
    """Make each disk not made yet and list them all in the manifest."""
    for disk in disks:
        path = os.path.join(inst_dir, disk["file"])
        if not os.path.exists(path):
            _make(path, disk)
    with open(os.path.join(inst_dir, MANIFEST), "w") as f:
        json.dump(disks, f)


def listed(inst_dir: str) -> list[dict]:
    """The disks the manifest in inst_dir lists ([] without one)."""
    try:
        with open(os.path.join(inst_dir, MANIFEST)) as f:
            return json.load(f)
    except FileNotFoundError:
        return []


def copy(src_dir: str, dest_dir: str) -> None:
    """The local disks of a guest moved within this host (a resize sets its directory
    aside and builds the new one), with their manifest."""
    disks = listed(src_dir)
    for disk in disks:
        shutil.copyfile(os.path.join(src_dir, disk["file"]),
                        os.path.join(dest_dir, disk["file"]))
    if disks:
        shutil.copyfile(os.path.join(src_dir, MANIFEST), os.path.join(dest_dir, MANIFEST))


def add_to_guest(guest: Any, inst_dir: str) -> None:
    """Give a GuestConfig a <disk> for each listed local disk (before its volumes)."""
    elements = []
    for disk in listed(inst_dir):
        el = ET.Element("disk", {"type": "file", "device": "disk"})
        ET.SubElement(el, "driver", {"name": "qemu", "type": "qcow2"})
        ET.SubElement(el, "source", {"file": os.path.join(inst_dir, disk["file"])})
        ET.SubElement(el, "target", {"dev": disk["device_name"],
                                     "bus": disk.get("disk_bus") or "virtio"})
        elements.append(el)
    guest.volume_disks[:0] = elements
