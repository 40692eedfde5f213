"""Cinder volumes in libvirt guests: the <disk> a connection_info describes, hot-plugged
into a domain and unplugged from it.

Only ``rbd`` volumes are supported (QEMU's userspace Ceph client, Debian's
qemu-block-extra, no kernel module): the disk is a network disk on the monitors Cinder
names, authenticated with the libvirt secret of type ceph whose uuid Cinder hands out
(operators define it on every compute host; tools/setup-cinder does here). The disk's
serial is the volume id, so a guest finds the volume by it (/sys/block/vdX/serial).
"""

from __future__ import annotations

import logging
import time
import xml.etree.ElementTree as ET
from typing import Any, Optional

from nova_lite import exception

LOG = logging.getLogger(__name__)

SUPPORTED = ("rbd",)
# Seconds a live guest has to release an unplugged disk (it must acknowledge the PCI
# unplug; libvirt keeps the device until it does).
DETACH_TIMEOUT = 30
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
    driver = _sub(disk, "driver", name="qemu", type="raw", cache="writeback")
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


def find_disk(domain_xml: str, serial: str) -> Optional[ET.Element]:
    for disk in _disks(domain_xml):
        if (disk.findtext("serial") or "") == serial:
            return disk
    return None


class LibvirtVolumeMixin:
    """Mixed into LibvirtDriver (which provides _get, _lookup, _errors, _device_flags)."""

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
            dom.attachDeviceFlags(xml, self._device_flags(dom))  # type: ignore[attr-defined]
        LOG.info("volume %s attached to %s as %s", serial, instance.name, dev)
        return f"/dev/{dev}"

    def detach_volume(self, instance: Any, connection_info: dict, mountpoint: str,
                      serial: str) -> None:
        lv = self._lv
        with self._errors(f"detaching volume {serial} from {instance.name}"):  # type: ignore[attr-defined]
            dom = self._lookup(instance)  # type: ignore[attr-defined]
            if dom is None:
                return
            flags = lv.VIR_DOMAIN_AFFECT_CONFIG
            persistent = find_disk(dom.XMLDesc(lv.VIR_DOMAIN_XML_INACTIVE), serial)
            live = find_disk(dom.XMLDesc(0), serial) if dom.isActive() else None
            if persistent is None and live is None:
                return
            if persistent is not None:
                dom.detachDeviceFlags(ET.tostring(persistent, encoding="unicode"),
                                      lv.VIR_DOMAIN_AFFECT_CONFIG)
            if live is not None:
                flags = lv.VIR_DOMAIN_AFFECT_LIVE
                dom.detachDeviceFlags(ET.tostring(live, encoding="unicode"), flags)
                self._wait_released(dom, serial)
        LOG.info("volume %s detached from %s", serial, instance.name)

    def _wait_released(self, dom: Any, serial: str) -> None:
        deadline = time.monotonic() + DETACH_TIMEOUT
        while find_disk(dom.XMLDesc(0), serial) is not None:
            if time.monotonic() > deadline:
                raise exception.DriverFailure(
                    reason=f"the guest did not release volume {serial} within "
                           f"{DETACH_TIMEOUT}s")
            time.sleep(0.2)
