"""The <disk> of an RBD volume and the device names of hot-plugged disks."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from nova_lite import exception
from nova_lite.virt.libvirt import volume

RBD = {"driver_volume_type": "rbd", "data": {
    "name": "volumes/volume-abc", "hosts": ["127.0.0.1"], "ports": ["6789"],
    "auth_enabled": True, "auth_username": "admin", "secret_type": "ceph",
    "secret_uuid": "7c6e3e52-1c2b-4f0a-9d3e-ce9f5ec2e7a1", "discard": True}}


def test_rbd_disk_is_a_network_disk_with_the_ceph_secret_and_the_serial():
    disk = ET.fromstring(volume.disk_xml(RBD, "vdb", "abc-serial"))
    assert disk.get("type") == "network"
    src = disk.find("source")
    assert (src.get("protocol"), src.get("name")) == ("rbd", "volumes/volume-abc")
    assert [(h.get("name"), h.get("port")) for h in src.findall("host")] == \
        [("127.0.0.1", "6789")]
    secret = disk.find("auth/secret")
    assert disk.find("auth").get("username") == "admin"
    assert (secret.get("type"), secret.get("uuid")) == ("ceph", RBD["data"]["secret_uuid"])
    assert disk.find("target").attrib == {"dev": "vdb", "bus": "virtio"}
    assert disk.findtext("serial") == "abc-serial"
    assert disk.find("driver").get("discard") == "unmap"


def test_a_multiattach_volume_is_shareable_without_host_cache():
    plain = ET.fromstring(volume.disk_xml(RBD, "vdb", "abc"))
    assert plain.find("shareable") is None and plain.find("driver").get("cache") == \
        "writeback"
    disk = ET.fromstring(volume.disk_xml(dict(RBD, multiattach=True), "vdb", "abc"))
    assert disk.find("shareable") is not None
    assert disk.find("driver").get("cache") == "none"
    assert disk.findtext("serial") == "abc"


def test_other_volume_types_are_refused():
    with pytest.raises(exception.VolumeDriverNotFound, match="iscsi"):
        volume.disk_xml({"driver_volume_type": "iscsi", "data": {}}, "vdb", "x")


def test_free_device_skips_the_disks_the_guest_has():
    dom = ("<domain><devices><disk><target dev='vda'/></disk>"
           "<disk><target dev='vdb'/><serial>cd</serial></disk></devices></domain>")
    assert volume.free_device(dom, "/dev/vdb") == "vdc"
    assert volume.free_device(dom, "/dev/vdd") == "vdd"
    assert volume.free_device(dom, None) == "vdc"
    assert volume.find_disk(dom, "cd").find("target").get("dev") == "vdb"
    assert volume.find_disk(dom, "zz") is None
