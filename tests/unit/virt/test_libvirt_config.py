"""Domain XML generation: parse what we generate and check what libvirt will see."""

import xml.etree.ElementTree as ET

from nova_lite.virt.libvirt import config

UUID = "6f1c4a8e-1b2f-4d8e-9a51-0c3f9e6f2a10"


def _guest(**kw) -> config.GuestConfig:
    args = dict(name="instance-0000002a", uuid=UUID, vcpus=2, memory_mb=256,
                virt_type="qemu", disk_path=f"/srv/inst/{UUID}/disk",
                console_log=f"/srv/inst/{UUID}/console.log", display_name="web-1",
                image_id="img-1")
    args.update(kw)
    return config.GuestConfig(**args)


def _parse(guest: config.GuestConfig) -> ET.Element:
    return ET.fromstring(config.domain_xml(guest))


def test_identity_cpu_and_memory():
    dom = _parse(_guest())
    assert dom.tag == "domain"
    assert dom.get("type") == "qemu"
    assert dom.findtext("name") == "instance-0000002a"
    assert dom.findtext("uuid") == UUID
    assert dom.findtext("vcpu") == "2"
    mem = dom.find("memory")
    assert mem.get("unit") == "KiB" and int(mem.text) == 256 * 1024
    assert int(dom.findtext("currentMemory")) == 256 * 1024


def test_domain_type_follows_virt_type():
    assert _parse(_guest(virt_type="kvm")).get("type") == "kvm"
    assert _parse(_guest(virt_type="kvm")).find("cpu").get("mode") == "host-model"
    assert _parse(_guest(virt_type="qemu")).find("cpu") is None


def test_disk_is_virtio_qcow2_overlay():
    disks = _parse(_guest()).findall("./devices/disk")
    assert len(disks) == 1
    disk = disks[0]
    assert disk.get("type") == "file" and disk.get("device") == "disk"
    assert disk.find("driver").get("type") == "qcow2"
    assert disk.find("source").get("file") == f"/srv/inst/{UUID}/disk"
    assert disk.find("target").get("bus") == "virtio"
    assert disk.find("target").get("dev") == "vda"


def test_serial_console_goes_to_appended_file():
    serial = _parse(_guest()).find("./devices/serial")
    assert serial.get("type") == "file"
    source = serial.find("source")
    assert source.get("path") == f"/srv/inst/{UUID}/console.log"
    assert source.get("append") == "on"


def test_no_network_and_acpi_for_the_power_button():
    dom = _parse(_guest())
    assert dom.find("./devices/interface") is None
    assert dom.find("./features/acpi") is not None
    assert dom.findtext("on_reboot") == "restart"
    assert dom.findtext("on_poweroff") == "destroy"


def test_kernel_boot():
    dom = _parse(_guest(kernel_path="/b/k", ramdisk_path="/b/r",
                        cmdline="console=ttyS0 no_timer_check"))
    os_el = dom.find("os")
    assert os_el.findtext("type") == "hvm"
    assert os_el.findtext("kernel") == "/b/k"
    assert os_el.findtext("initrd") == "/b/r"
    assert os_el.findtext("cmdline") == "console=ttyS0 no_timer_check"
    assert os_el.find("boot") is None


def test_kernel_without_ramdisk():
    os_el = _parse(_guest(kernel_path="/b/k", cmdline="console=ttyS0")).find("os")
    assert os_el.findtext("kernel") == "/b/k"
    assert os_el.find("initrd") is None


def test_whole_disk_boot():
    os_el = _parse(_guest()).find("os")
    assert os_el.find("kernel") is None
    assert os_el.find("initrd") is None
    assert os_el.find("cmdline") is None
    assert os_el.find("boot").get("dev") == "hd"


def test_metadata_marks_the_domain_as_ours():
    dom = _parse(_guest())
    inst = dom.find(f"./metadata/{{{config.METADATA_NS}}}instance")
    assert inst is not None
    assert inst.findtext(f"{{{config.METADATA_NS}}}display_name") == "web-1"
    assert inst.findtext(f"{{{config.METADATA_NS}}}image_id") == "img-1"
    assert config.metadata_host(ET.tostring(inst, encoding="unicode")) == ""
    owned = _parse(_guest(host="compute-1")).find(f"./metadata/{{{config.METADATA_NS}}}instance")
    assert config.metadata_host(ET.tostring(owned, encoding="unicode")) == "compute-1"
    assert dom.findtext("title") == "web-1"


def test_special_characters_are_escaped():
    dom = _parse(_guest(display_name="a<b>&'\"c"))
    assert dom.findtext("title") == "a<b>&'\"c"


def test_kernel_cmdline_defaults_and_tcg_timer_check():
    assert config.kernel_cmdline({}, "kvm") == "console=ttyS0"
    assert config.kernel_cmdline({}, "qemu") == "console=ttyS0 no_timer_check"
    assert config.kernel_cmdline({"os_command_line": "console=ttyS0 quiet"}, "kvm") == \
        "console=ttyS0 quiet"
    assert config.kernel_cmdline({"os_command_line": "console=ttyS0 no_timer_check"},
                                 "qemu") == "console=ttyS0 no_timer_check"


def test_image_properties_choose_disk_bus_and_machine_type():
    dom = _parse(_guest(disk_bus="scsi", machine_type="q35"))
    target = dom.find("./devices/disk/target")
    assert (target.get("bus"), target.get("dev")) == ("scsi", "sda")
    assert dom.find("./devices/controller[@type='scsi']").get("model") == "virtio-scsi"
    assert dom.find("./os/type").get("machine") == "q35"
    dom = _parse(_guest(disk_bus="ide"))
    assert dom.find("./devices/disk/target").get("dev") == "hda"
    assert dom.find("./devices/controller") is None
    assert dom.find("./os/type").get("machine") is None


def test_invalid_guest_properties_are_named():
    from nova_lite.image.properties import invalid_property

    assert invalid_property({"hw_disk_bus": "scsi", "hw_machine_type": "pc-i440fx-7.2",
                             "hw_vif_model": "e1000"}) is None
    assert invalid_property({"hw_disk_bus": "floppy"}) == (
        "Image property 'hw_disk_bus' has an invalid value 'floppy'.")
    assert "hw_machine_type" in invalid_property({"hw_machine_type": "q35; rm -rf"})
    assert "hw_vif_model" in invalid_property({"hw_vif_model": "virtio2"})
