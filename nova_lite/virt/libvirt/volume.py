"""Cinder volumes in libvirt guests: the <disk> a connection_info describes, hot-plugged
into a domain and unplugged from it.

Only ``rbd`` volumes are supported (QEMU's userspace Ceph client, Debian's
qemu-block-extra, no kernel module): the disk is a network disk on the monitors Cinder
names, authenticated with the libvirt secret of type ceph whose uuid Cinder hands out
(operators define it on every compute host; tools/setup-cinder does here). The disk's
serial is the volume id, so a guest finds the volume by it (/sys/block/vdX/serial).
A multiattach volume's disk is ``<shareable/>`` with cache ``none`` (as Nova), since
other guests, on this host or others, use the volume at the same time.
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from typing import Any, Optional

from nova_lite import exception
from nova_lite.virt.libvirt.host import device_flags

LOG = logging.getLogger(__name__)

SUPPORTED = ("rbd",)
# Seconds a live guest has to release an unplugged disk (it must acknowledge the PCI
# unplug; libvirt keeps the device until it does).
DETACH_TIMEOUT = 30
# Seconds a block copy of a swapped volume may take.
SWAP_TIMEOUT = 300
_DEVICES = [f"vd{c}" for c in "bcdefghijklmnopqrstuvwxyz"]


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})


def disk_element(connection_info: dict, target_dev: str, serial: Optional[str],
                 bus: str = "virtio") -> ET.Element:
    """The <disk> of a volume; VolumeDriverNotFound for a driver_volume_type this host
    cannot attach."""
    kind = connection_info.get("driver_volume_type")
    if kind not in SUPPORTED:
        raise exception.VolumeDriverNotFound(driver_type=kind)
    data = connection_info.get("data") or {}
    disk = ET.Element("disk", {"type": "network", "device": "disk"})
    shared = bool(connection_info.get("multiattach"))
    # A disk other guests write too: no host cache that one QEMU would keep to itself.
    driver = _sub(disk, "driver", name="qemu", type="raw",
                  cache="none" if shared else "writeback")
    if data.get("discard"):
        driver.set("discard", "unmap")
    source = _sub(disk, "source", protocol="rbd", name=data["name"])
    for host, port in zip(data.get("hosts") or [], data.get("ports") or []):
        _sub(source, "host", name=str(host), port=str(port))
    if data.get("auth_enabled"):
        auth = _sub(disk, "auth", username=data.get("auth_username") or "admin")
        _sub(auth, "secret", type=data.get("secret_type") or "ceph",
             uuid=data.get("secret_uuid"))
    _sub(disk, "target", dev=target_dev, bus=bus)
    if serial:
        ET.SubElement(disk, "serial").text = serial
    if data.get("access_mode") == "ro":
        ET.SubElement(disk, "readonly")
    if shared:
        ET.SubElement(disk, "shareable")
    return disk


def disk_xml(connection_info: dict, target_dev: str, serial: Optional[str],
             bus: str = "virtio") -> str:
    return ET.tostring(disk_element(connection_info, target_dev, serial, bus),
                       encoding="unicode")


def _disks(domain_xml: str) -> list[ET.Element]:
    return ET.fromstring(domain_xml).findall("./devices/disk")


def used_devices(domain_xml: str) -> set[str]:
    return {t.get("dev") for d in _disks(domain_xml) if (t := d.find("target")) is not None}


def free_device(domain_xml: str, wanted: Optional[str]) -> str:
    """``wanted`` (vdb, or /dev/vdb) when the domain has no such disk, else the first
    free virtio device name."""
    used = used_devices(domain_xml)
    name = (wanted or "").rpartition("/")[2]
    if name.startswith("vd") and name not in used:
        return name
    for dev in _DEVICES:
        if dev not in used:
            return dev
    raise exception.DriverFailure(reason="the guest has no free disk device name")


def find_disk(domain_xml: str, serial: str, source: Optional[str] = None
              ) -> Optional[ET.Element]:
    """The disk whose serial is ``serial``, or whose network source is ``source`` (a
    swapped disk keeps the serial of the volume it was copied from while it runs)."""
    for disk in _disks(domain_xml):
        if (disk.findtext("serial") or "") == serial:
            return disk
    for disk in _disks(domain_xml):
        src = disk.find("source")
        if source and src is not None and src.get("name") == source:
            return disk
    return None


def boots_from_volume(devices: list) -> bool:
    """Whether a build's volumes (block_devices) include the root disk (boot_index 0)."""
    return any(d.get("boot_index") == 0 for d in devices)


def add_to_guest(guest: Any, devices: list) -> None:
    """Give a GuestConfig the <disk> of each volume of a build: the root one replaces
    the disk file, the others follow the config drive."""
    for dev in devices:
        bus = dev.get("disk_bus") or "virtio"
        disk = disk_element(dev["connection_info"], dev["device_name"], dev["serial"], bus)
        if dev.get("boot_index") == 0:
            guest.root_disk, guest.disk_bus = disk, bus
        else:
            guest.volume_disks.append(disk)


def _source(connection_info: dict) -> Optional[str]:
    return (connection_info.get("data") or {}).get("name")


class LibvirtVolumeMixin:
    """Mixed into LibvirtDriver (which provides _get, _lookup, _errors)."""

    _lv: Any

    def attach_volume(self, instance: Any, connection_info: dict, mountpoint: str,
                      serial: str) -> str:
        kind = connection_info.get("driver_volume_type")
        if kind not in SUPPORTED:
            raise exception.VolumeDriverNotFound(driver_type=kind)
        with self._errors(f"attaching volume {serial} to {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            dev = free_device(dom.XMLDesc(0), mountpoint)
            xml = disk_xml(connection_info, dev, serial)
            dom.attachDeviceFlags(xml, device_flags(self._lv, dom))
        LOG.info("volume %s attached to %s as %s", serial, instance.name, dev)
        return f"/dev/{dev}"

    def detach_volume(self, instance: Any, connection_info: dict, mountpoint: str,
                      serial: str) -> None:
        lv = self._lv
        with self._errors(f"detaching volume {serial} from {instance.name}"):  # type: ignore[attr-defined]
            dom = self._lookup(instance)  # type: ignore[attr-defined]
            if dom is None:
                return
            source = _source(connection_info)
            persistent = find_disk(dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE), serial, source)
            live = find_disk(dom.XMLDesc(0), serial, source) if dom.isActive() else None
            if persistent is None and live is None:
                return
            if persistent is not None:
                dom.detachDeviceFlags(ET.tostring(persistent, encoding="unicode"),
                                      lv.VIR_DOMAIN_AFFECT_CONFIG)
            if live is not None:
                dom.detachDeviceFlags(ET.tostring(live, encoding="unicode"),
                                      lv.VIR_DOMAIN_AFFECT_LIVE)
                self._wait_released(dom, serial, source)
        LOG.info("volume %s detached from %s", serial, instance.name)

    def swap_volume(self, instance: Any, old_connection_info: dict,
                    new_connection_info: dict, mountpoint: str, old_serial: str,
                    new_serial: str) -> None:
        """A running guest mirrors the disk onto the new volume (QEMU's block copy) and
        pivots to it; the definition then names the new volume."""
        lv = self._lv
        kind = new_connection_info.get("driver_volume_type")
        if kind not in SUPPORTED:
            raise exception.VolumeDriverNotFound(driver_type=kind)
        what = f"swapping volume {old_serial} of {instance.name} for {new_serial}"
        with self._errors(what):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            source = _source(old_connection_info)
            if dom.isActive():
                disk = find_disk(dom.XMLDesc(0), old_serial, source)
                if disk is None:
                    raise exception.DriverFailure(reason=f"the guest has no volume "
                                                         f"{old_serial}")
                dev = disk.find("target").get("dev")
                dom.blockCopy(dev, disk_xml(new_connection_info, dev, new_serial), None,
                              lv.VIR_DOMAIN_BLOCK_COPY_REUSE_EXT
                              | lv.VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB)
                self._wait_mirrored(dom, dev)
                dom.blockJobAbort(dev, lv.VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT)
                deadline = time.monotonic() + DETACH_TIMEOUT
                while dom.blockJobInfo(dev, 0):
                    if time.monotonic() > deadline:
                        raise exception.DriverFailure(reason="the pivot did not finish")
                    time.sleep(0.2)
            old = find_disk(dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE), old_serial, source)
            if old is not None:
                dev = old.find("target").get("dev")
                dom.detachDeviceFlags(ET.tostring(old, encoding="unicode"),
                                      lv.VIR_DOMAIN_AFFECT_CONFIG)
                dom.attachDeviceFlags(disk_xml(new_connection_info, dev, new_serial),
                                      lv.VIR_DOMAIN_AFFECT_CONFIG)
        LOG.info("volume %s of %s swapped for %s", old_serial, instance.name, new_serial)

    def extend_volume(self, instance: Any, connection_info: dict, serial: str,
                      new_size: int) -> None:
        """QEMU resizes the running guest's disk of the volume (block_resize); the guest
        kernel sees the new capacity at once. A stopped guest needs nothing: QEMU
        reads the volume's size when it starts."""
        with self._errors(f"extending volume {serial} of {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            if not dom.isActive():
                return
            disk = find_disk(dom.XMLDesc(0), serial, _source(connection_info))
            if disk is None:
                raise exception.DriverFailure(reason=f"the guest has no volume {serial}")
            dev = disk.find("target").get("dev")
            dom.blockResize(dev, new_size, self._lv.VIR_DOMAIN_BLOCK_RESIZE_BYTES)
        LOG.info("volume %s of %s resized to %d bytes", serial, instance.name, new_size)

    def _wait_mirrored(self, dom: Any, dev: str) -> None:
        """Until the copy has caught up (the job is ready to pivot)."""
        deadline = time.monotonic() + SWAP_TIMEOUT
        while True:
            info = dom.blockJobInfo(dev, 0)
            if not info:
                raise exception.DriverFailure(reason="the block copy stopped")
            if info.get("end") and info.get("cur") == info.get("end"):
                return
            if time.monotonic() > deadline:
                dom.blockJobAbort(dev, 0)
                raise exception.DriverFailure(
                    reason=f"the block copy did not finish within {SWAP_TIMEOUT}s")
            time.sleep(0.5)

    def _wait_released(self, dom: Any, serial: str, source: Optional[str]) -> None:
        deadline = time.monotonic() + DETACH_TIMEOUT
        while find_disk(dom.XMLDesc(0), serial, source) is not None:
            if time.monotonic() > deadline:
                raise exception.DriverFailure(
                    reason=f"the guest did not release volume {serial} within "
                           f"{DETACH_TIMEOUT}s")
            time.sleep(0.2)
