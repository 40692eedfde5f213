"""The rescue definition of a guest, derived from its own domain XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nova_lite.virt.libvirt import config as vconfig

ORIGINAL = """<domain type='qemu'>
  <name>instance-1</name><uuid>6f1c8a36-8a56-4b8e-9d58-2b3c0f1b9a11</uuid>
  <os><type arch='x86_64'>hvm</type><kernel>/base/k</kernel><initrd>/base/r</initrd>
      <cmdline>console=ttyS0</cmdline></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
      <source file='/i/disk'/><target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/>
      <source file='/i/disk.config'/><target dev='vdb' bus='virtio'/><readonly/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>
    <interface type='user'><mac address='fa:16:3e:00:00:01'/></interface>
    <serial type='file'><source path='/i/console.log' append='on'/></serial>
  </devices>
</domain>"""


def _disks(xml: str) -> list[tuple[str, str, str]]:
    root = ET.fromstring(xml)
    out = []
    for d in root.findall("./devices/disk"):
        addr = d.find("address")
        out.append((d.find("target").get("dev"), d.find("source").get("file"),
                    addr.get("slot") if addr is not None else None))
    return out


def test_rescue_disk_first_own_disks_follow_in_pci_order():
    xml = vconfig.rescue_xml(ORIGINAL, "/i/disk.rescue", "/base/rk", None, "console=ttyS0")
    assert _disks(xml) == [("vda", "/i/disk.rescue", "0x04"), ("vdb", "/i/disk", "0x05"),
                           ("vdc", "/i/disk.config", None)]
    root = ET.fromstring(xml)
    os_el = root.find("os")
    assert os_el.findtext("kernel") == "/base/rk" and os_el.find("initrd") is None
    assert os_el.findtext("cmdline") == "console=ttyS0"
    assert root.find("./devices/interface/mac").get("address") == "fa:16:3e:00:00:01"
    assert root.findtext("uuid") == "6f1c8a36-8a56-4b8e-9d58-2b3c0f1b9a11"


def test_rescue_of_a_whole_disk_image_boots_the_first_disk():
    xml = vconfig.rescue_xml(ORIGINAL, "/i/disk.rescue", None, None, None)
    os_el = ET.fromstring(xml).find("os")
    assert os_el.find("kernel") is None and os_el.find("boot").get("dev") == "hd"
