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


VOLUME_BACKED = """<domain type='qemu'>
  <name>instance-2</name><uuid>0c0a1d4e-5b8e-4b8e-9d58-2b3c0f1b9a22</uuid>
  <os><type arch='x86_64'>hvm</type><kernel>/base/k</kernel><initrd>/base/r</initrd>
      <cmdline>console=ttyS0</cmdline></os>
  <devices>
    <disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>
      <source protocol='rbd' name='volumes/volume-7d1c'>
        <host name='127.0.0.1' port='6789'/></source>
      <auth username='admin'><secret type='ceph' uuid='5b9d1c4e'/></auth>
      <target dev='vda' bus='virtio'/><serial>7d1c</serial>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x04' function='0x0'/></disk>
    <disk type='network' device='disk'><driver name='qemu' type='raw' cache='none'/>
      <source protocol='rbd' name='volumes/volume-9e2f'>
        <host name='127.0.0.1' port='6789'/></source>
      <auth username='admin'><secret type='ceph' uuid='5b9d1c4e'/></auth>
      <target dev='vdb' bus='virtio'/><serial>9e2f</serial>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></disk>
    <serial type='file'><source path='/i/console.log' append='on'/></serial>
  </devices>
</domain>"""


def test_stable_rescue_of_a_volume_backed_guest_keeps_its_volumes_and_boots_the_rescue():
    xml = vconfig.stable_rescue_xml(VOLUME_BACKED, "/i/disk.rescue", "disk", "virtio",
                                    None, None, None)
    root = ET.fromstring(xml)
    disks = root.findall("./devices/disk")
    # the volumes as they were (names, serials, slots, Ceph auth), the rescue disk last
    for disk, vol, dev, slot in zip(disks, ("7d1c", "9e2f"), ("vda", "vdb"),
                                    ("0x04", "0x05")):
        assert disk.find("source").get("name") == f"volumes/volume-{vol}"
        assert disk.findtext("serial") == vol and disk.find("target").get("dev") == dev
        assert disk.find("address").get("slot") == slot
        assert disk.find("auth/secret").get("uuid") == "5b9d1c4e"
        assert disk.find("boot") is None
    rescue = disks[2]
    assert rescue.get("device") == "disk" and rescue.find("address") is None
    assert rescue.find("source").get("file") == "/i/disk.rescue"
    assert rescue.find("target").attrib == {"dev": "vdc", "bus": "virtio"}
    assert rescue.find("boot").get("order") == "1"
    os_el = root.find("os")  # no kernel of the server's, no <boot dev> beside boot order
    assert [el.tag for el in os_el] == ["type"]


def test_stable_rescue_device_on_its_bus_with_the_rescue_kernel():
    xml = vconfig.stable_rescue_xml(VOLUME_BACKED, "/i/disk.rescue", "cdrom", "sata",
                                    "/base/rk", "/base/rr", "console=ttyS0")
    root = ET.fromstring(xml)
    rescue = root.findall("./devices/disk")[-1]
    assert rescue.get("device") == "cdrom" and rescue.find("readonly") is not None
    assert rescue.find("target").attrib == {"dev": "sda", "bus": "sata"}
    os_el = root.find("os")
    assert (os_el.findtext("kernel"), os_el.findtext("initrd")) == ("/base/rk", "/base/rr")
    assert os_el.find("boot") is None


def test_stable_rescue_of_an_image_backed_guest_leaves_its_disks_in_place():
    xml = vconfig.stable_rescue_xml(ORIGINAL, "/i/disk.rescue", "disk", "usb",
                                    None, None, None)
    assert _disks(xml) == [("vda", "/i/disk", "0x04"), ("vdb", "/i/disk.config", "0x05"),
                           ("sda", "/i/disk.rescue", None)]
