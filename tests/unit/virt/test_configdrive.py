"""Config drives (ISO 9660, label config-2, read back by isoinfo, an independent reader)
and the guest devices they and VNC consoles add to the domain XML."""

from __future__ import annotations

import json
import shutil
import subprocess
import types
import xml.etree.ElementTree as ET

import pytest

from nova_lite.virt import configdrive
from nova_lite.virt.libvirt import config

UUID = "6f1c4a8e-1b2f-4d8e-9a51-0c3f9e6f2a10"
FILES = [
    ("openstack/latest/meta_data.json", json.dumps({"uuid": UUID}).encode()),
    ("openstack/2012-08-10/meta_data.json", b"{}"),
    ("openstack/latest/user_data", b"#!/bin/sh\necho hi\n"),
    ("openstack/latest/network_data.json", b'{"links": []}'),
    ("ec2/latest/meta-data.json", b"{}"),
    ("ec2/latest/user-data", b"#!/bin/sh\necho hi\n"),
]


def _isoinfo() -> str:
    path = shutil.which("isoinfo")
    if path is None:
        pytest.fail("isoinfo is missing (Debian package genisoimage, see .ci/run)")
    return path


def test_iso_has_the_label_and_the_real_file_names(tmp_path) -> None:
    iso = str(tmp_path / "disk.config")
    size = configdrive.build_iso(FILES, iso)
    assert size > 0
    info = subprocess.run([_isoinfo(), "-d", "-i", iso], capture_output=True, text=True,
                          check=True).stdout
    assert "Volume id: config-2" in info
    assert "Rock Ridge" in info
    listing = subprocess.run([_isoinfo(), "-R", "-f", "-i", iso], capture_output=True,
                             text=True, check=True).stdout.split()
    for path, _data in FILES:
        assert "/" + path in listing
    for path, data in FILES:
        got = subprocess.run([_isoinfo(), "-R", "-x", "/" + path, "-i", iso],
                             capture_output=True, check=True).stdout
        assert got == data, path
    label, files = configdrive.read_iso(iso)
    assert label == "config-2" and files == dict(FILES)


@pytest.mark.parametrize("asked,props,force,want", [
    ("True", {}, False, True), ("", {}, False, False), (None, {}, False, False),
    ("", {}, True, True), ("", {"img_config_drive": "mandatory"}, False, True),
    ("", {"img_config_drive": "optional"}, False, False), ("false", {}, False, False),
])
def test_required(asked, props, force, want) -> None:
    assert configdrive.required(asked, props, force) is want


def _guest(**kw) -> config.GuestConfig:
    args = dict(name="instance-0000002a", uuid=UUID, vcpus=1, memory_mb=128,
                virt_type="qemu", disk_path=f"/srv/{UUID}/disk",
                console_log=f"/srv/{UUID}/console.log")
    args.update(kw)
    return config.GuestConfig(**args)


def test_config_drive_is_a_read_only_second_disk() -> None:
    dom = ET.fromstring(config.domain_xml(_guest(config_drive_path=f"/srv/{UUID}/disk.config")))
    disks = dom.findall("./devices/disk")
    assert [d.find("target").get("dev") for d in disks] == ["vda", "vdb"]
    drive = disks[1]
    assert drive.find("source").get("file") == f"/srv/{UUID}/disk.config"
    assert drive.find("driver").get("type") == "raw"
    assert drive.find("readonly") is not None
    assert len(ET.fromstring(config.domain_xml(_guest())).findall("./devices/disk")) == 1


def test_vnc_graphics_and_port() -> None:
    dom = ET.fromstring(config.domain_xml(_guest(vnc_listen="127.0.0.1")))
    graphics = dom.find("./devices/graphics")
    assert graphics.get("type") == "vnc" and graphics.get("autoport") == "yes"
    assert graphics.get("listen") == "127.0.0.1"
    assert graphics.find("listen").get("address") == "127.0.0.1"
    assert dom.find("./devices/video/model").get("type") == "vga"
    assert ET.fromstring(config.domain_xml(_guest())).find("./devices/graphics") is None
    # what libvirt reports for a running guest
    graphics.set("port", "5903")
    assert config.vnc_port(ET.tostring(dom, encoding="unicode")) == 5903
    graphics.set("port", "-1")
    assert config.vnc_port(ET.tostring(dom, encoding="unicode")) is None


def test_fake_driver_keeps_the_drive_and_a_vnc_port(tmp_path) -> None:
    from nova_lite.image.api import HostImageSource
    from nova_lite.image.local import LocalImageStore
    from nova_lite.virt import driver, fake

    conf = types.SimpleNamespace(
        vnc=types.SimpleNamespace(enabled=True, server_proxyclient_address="192.0.2.5"),
        fake_driver=types.SimpleNamespace(spawn_delay=0),
        instances_path=str(tmp_path / "instances"))
    store = LocalImageStore(str(tmp_path / "images"))
    image = store.create(None, {"name": "img", "disk_format": "raw",
                                "visibility": "public"})
    store.upload(None, image["id"], [b"x" * 512])
    drv = fake.FakeDriver("h1", HostImageSource(store), conf)  # type: ignore[arg-type]
    spec = driver.InstanceSpec(UUID, "instance-1", "vm", 1, 128, 1, image["id"],
                               extra={"config_drive": FILES})
    drv.spawn(spec, {})
    assert drv.config_drive_of(UUID) == dict(FILES)
    assert drv.get_vnc_console(spec) == {"host": "192.0.2.5", "port": 5900}
    conf.vnc.enabled = False
    with pytest.raises(driver.ConsoleUnavailable):
        drv.get_vnc_console(spec)
