"""Libvirt domain XML for one guest, built as an element tree.

Kept free of libvirt-python so the XML can be generated and checked anywhere; the
driver fills a GuestConfig from the instance and the cached image paths.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from typing import Optional

# Marks domains created by nova_lite, so the driver never touches anybody else's guests.
METADATA_NS = "http://nova-lite.invalid/xmlns/libvirt/instance/1.0"
METADATA_PREFIX = "nova_lite"
ET.register_namespace(METADATA_PREFIX, METADATA_NS)


@dataclasses.dataclass
class GuestConfig:
    """Everything the domain XML depends on."""

    name: str
    uuid: str
    vcpus: int
    memory_mb: int
    virt_type: str  # domain type: kvm, qemu (or test, for libvirt's test driver)
    disk_path: str
    console_log: str
    display_name: str = ""
    image_id: str = ""
    host: str = ""  # the compute host owning the guest (several may share a libvirtd)
    kernel_path: Optional[str] = None
    ramdisk_path: Optional[str] = None
    cmdline: Optional[str] = None
    arch: str = "x86_64"
    config_drive_path: Optional[str] = None  # ISO 9660 image, attached read-only as vdb
    disk_bus: str = "virtio"  # the image's hw_disk_bus
    machine_type: Optional[str] = None  # the image's hw_machine_type (e.g. q35)
    vnc_listen: Optional[str] = None  # address of a VNC server for the guest's display
    # <interface> elements of the guest's NICs (nova_lite.virt.libvirt.vif)
    interfaces: list = dataclasses.field(default_factory=list)
    # The <disk> of a root volume (booted from volume): disk_path is then unused.
    root_disk: Optional[ET.Element] = None
    # <disk> elements of the volumes attached at build, after the config drive.
    volume_disks: list = dataclasses.field(default_factory=list)


def metadata_host(metadata_xml: str) -> str:
    """The owning host recorded in a domain's nova_lite metadata element."""
    root = ET.fromstring(metadata_xml)
    # libvirt hands the element back with its namespace, or as bare tags.
    return (root.findtext(f"{{{METADATA_NS}}}host") or root.findtext("host") or "").strip()


def vnc_port(domain_xml: str) -> Optional[int]:
    """The port libvirt gave a running guest's VNC server (autoport), if it has one."""
    graphics = ET.fromstring(domain_xml).find("./devices/graphics[@type='vnc']")
    if graphics is None:
        return None
    port = int(graphics.get("port", "-1"))
    return port if port > 0 else None


def kernel_cmdline(properties: dict, virt_type: str) -> str:
    """The guest kernel command line: the image's os_command_line, default console=ttyS0.

    Under TCG an SMP-ish guest sometimes fails the IO-APIC timer check when the host is
    busy, so no_timer_check is always added for virt_type qemu.
    """
    cmdline = (properties.get("os_command_line") or "console=ttyS0").strip()
    if virt_type == "qemu" and "no_timer_check" not in cmdline.split():
        cmdline += " no_timer_check"
    return cmdline


def _sub(parent: ET.Element, tag: str, text: Optional[str] = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def build_domain(cfg: GuestConfig) -> ET.Element:
    """The <domain> element for cfg."""
    dom = ET.Element("domain", {"type": cfg.virt_type})
    _sub(dom, "name", cfg.name)
    _sub(dom, "uuid", cfg.uuid)
    if cfg.display_name:
        _sub(dom, "title", cfg.display_name)

    meta = _sub(dom, "metadata")
    inst = _sub(meta, f"{{{METADATA_NS}}}instance")
    _sub(inst, f"{{{METADATA_NS}}}display_name", cfg.display_name)
    _sub(inst, f"{{{METADATA_NS}}}image_id", cfg.image_id)
    _sub(inst, f"{{{METADATA_NS}}}host", cfg.host)

    memory_kib = str(cfg.memory_mb * 1024)
    _sub(dom, "memory", memory_kib, unit="KiB")
    _sub(dom, "currentMemory", memory_kib, unit="KiB")
    _sub(dom, "vcpu", str(cfg.vcpus))

    os_el = _sub(dom, "os")
    _sub(os_el, "type", "hvm", arch=cfg.arch, machine=cfg.machine_type)
    if cfg.kernel_path:
        _sub(os_el, "kernel", cfg.kernel_path)
        if cfg.ramdisk_path:
            _sub(os_el, "initrd", cfg.ramdisk_path)
        if cfg.cmdline:
            _sub(os_el, "cmdline", cfg.cmdline)
    else:
        _sub(os_el, "boot", dev="hd")

    features = _sub(dom, "features")
    _sub(features, "acpi")  # the power button drives soft reboot and clean shutdown
    _sub(features, "apic")
    if cfg.virt_type == "kvm":
        _sub(dom, "cpu", mode="host-model")
    _sub(dom, "clock", offset="utc")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")

    devices = _sub(dom, "devices")
    if cfg.root_disk is not None:
        devices.append(cfg.root_disk)
    else:
        disk = _sub(devices, "disk", type="file", device="disk")
        _sub(disk, "driver", name="qemu", type="qcow2")
        _sub(disk, "source", file=cfg.disk_path)
        _sub(disk, "target", dev=_DISK_DEV[cfg.disk_bus], bus=cfg.disk_bus)
    if cfg.disk_bus == "scsi":
        _sub(devices, "controller", type="scsi", index="0", model="virtio-scsi")

    if cfg.config_drive_path:
        # A read-only virtio disk: the guest finds it by its label (config-2).
        drive = _sub(devices, "disk", type="file", device="disk")
        _sub(drive, "driver", name="qemu", type="raw")
        _sub(drive, "source", file=cfg.config_drive_path)
        _sub(drive, "target", dev="vdb", bus="virtio")
        _sub(drive, "readonly")
    devices.extend(cfg.volume_disks)

    for interface in cfg.interfaces:
        devices.append(interface)

    # append='on': the log survives power off/on and hard reboots of the same guest.
    serial = _sub(devices, "serial", type="file")
    _sub(serial, "source", path=cfg.console_log, append="on")
    _sub(serial, "target", port="0")
    if cfg.vnc_listen:
        graphics = _sub(devices, "graphics", type="vnc", autoport="yes",
                        listen=cfg.vnc_listen)
        _sub(graphics, "listen", type="address", address=cfg.vnc_listen)
        video = _sub(devices, "video")
        _sub(video, "model", type="vga")
    _sub(devices, "memballoon", model="none")
    return dom


# The root disk's device name on each bus.
_DISK_DEV = {"virtio": "vda", "scsi": "sda", "sata": "sda", "usb": "sda", "ide": "hda"}


def domain_xml(cfg: GuestConfig) -> str:
    """The domain XML document for cfg, as libvirt's defineXML expects it."""
    dom = build_domain(cfg)
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode")


def rescue_xml(domain_xml_text: str, rescue_disk: str, kernel_path: Optional[str],
               ramdisk_path: Optional[str], cmdline: Optional[str]) -> str:
    """A guest's definition booting from ``rescue_disk`` (qcow2) as vda, with every disk
    it had following it (its root disk as vdb), booted the rescue image's way (its
    kernel, or the first disk). Everything else (console, config drive, NICs, display)
    is kept as it was."""
    root = ET.fromstring(domain_xml_text)
    devices = root.find("devices")
    if devices is None:
        raise ValueError("domain XML without devices")
    disks = [d for d in devices.findall("disk") if d.get("device") == "disk"]
    if not disks:
        raise ValueError("domain XML without a disk")
    rescue = ET.Element("disk", {"type": "file", "device": "disk"})
    _sub(rescue, "driver", name="qemu", type="qcow2")
    _sub(rescue, "source", file=rescue_disk)
    _sub(rescue, "target", dev="vda", bus="virtio")
    devices.insert(list(devices).index(disks[0]), rescue)
    # The guest names virtio disks in PCI order: each disk moves one place down, into
    # its successor's slot (the last one gets a new slot), so the guest's vdX agree.
    addresses = [d.find("address") for d in disks]
    for disk, address in zip([rescue, *disks], [*addresses, None]):
        old = disk.find("address")
        if old is not None:
            disk.remove(old)
        if address is not None:
            disk.append(address)
    for n, disk in enumerate(disks, start=1):
        target = disk.find("target")
        if target is not None and target.get("bus", "virtio") == "virtio":
            target.set("dev", "vd" + chr(ord("a") + n))
    _rescue_boot(root, kernel_path, ramdisk_path, cmdline, disk_boot=True)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


# Where a stable rescue device's name starts on each bus.
_TARGET_PREFIX = {"virtio": "vd", "scsi": "sd", "sata": "sd", "usb": "sd", "ide": "hd",
                  "fdc": "fd"}


def stable_rescue_xml(domain_xml_text: str, rescue_disk: str, device: str, bus: str,
                      kernel_path: Optional[str], ramdisk_path: Optional[str],
                      cmdline: Optional[str]) -> str:
    """A guest's definition for a stable device rescue: every disk it had (root volume
    included) stays as it was, ``rescue_disk`` (qcow2) is added last as ``device`` on
    ``bus`` under the bus's first free name, and the guest boots from it (boot order 1,
    or the rescue image's kernel)."""
    root = ET.fromstring(domain_xml_text)
    devices = root.find("devices")
    if devices is None:
        raise ValueError("domain XML without devices")
    disks = devices.findall("disk")
    used = {t.get("dev") for d in disks for t in d.findall("target")}
    prefix = _TARGET_PREFIX[bus]
    name = next(prefix + c for c in "abcdefghijklmnopqrstuvwxyz" if prefix + c not in used)
    for disk in disks:  # the rescue device alone carries a boot order
        for boot in disk.findall("boot"):
            disk.remove(boot)
    rescue = ET.Element("disk", {"type": "file", "device": device})
    _sub(rescue, "driver", name="qemu", type="qcow2")
    _sub(rescue, "source", file=rescue_disk)
    _sub(rescue, "target", dev=name, bus=bus)
    if device == "cdrom":
        _sub(rescue, "readonly")
    _sub(rescue, "boot", order="1")
    at = list(devices).index(disks[-1]) + 1 if disks else 0
    devices.insert(at, rescue)
    _rescue_boot(root, kernel_path, ramdisk_path, cmdline, disk_boot=False)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode")


def _rescue_boot(root: ET.Element, kernel_path: Optional[str],
                 ramdisk_path: Optional[str], cmdline: Optional[str],
                 disk_boot: bool) -> None:
    """The rescue image's way to boot: its kernel, else the disks (``<boot dev='hd'>``
    when ``disk_boot``; a device's boot order otherwise, which libvirt does not allow
    beside ``<os><boot>``)."""
    os_el = root.find("os")
    if os_el is None:
        os_el = _sub(root, "os")
    for tag in ("kernel", "initrd", "cmdline", "boot"):
        for el in os_el.findall(tag):
            os_el.remove(el)
    if kernel_path:
        _sub(os_el, "kernel", kernel_path)
        if ramdisk_path:
            _sub(os_el, "initrd", ramdisk_path)
        if cmdline:
            _sub(os_el, "cmdline", cmdline)
    elif disk_boot:
        _sub(os_el, "boot", dev="hd")
