"""The libvirt <interface> of a VIF, and a domain with NICs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from nova_lite.virt.driver import DriverError
from nova_lite.virt.libvirt import config as vconfig
from nova_lite.virt.libvirt import vif as vvif

PORT = "3f1c8f2e-9a55-4b8e-8a55-1b2c3d4e5f60"


def _vif(**kw) -> dict:
    vif = {"id": PORT, "address": "fa:16:3e:12:34:56", "type": "ovs",
           "details": {"bridge_name": "br-int", "datapath_type": "netdev"},
           "devname": "tap3f1c8f2e-9a", "ovs_interfaceid": PORT, "active": False,
           "network": {"id": "n", "label": "private", "bridge": "br-int", "mtu": 1442,
                       "subnets": []}}
    vif.update(kw)
    return vif


def test_ovs_interface_is_a_bridge_with_an_openvswitch_virtualport():
    el = vvif.interface_element(_vif())
    assert el.tag == "interface" and el.get("type") == "bridge"
    assert el.find("mac").get("address") == "fa:16:3e:12:34:56"
    assert el.find("source").get("bridge") == "br-int"
    port = el.find("virtualport")
    assert port.get("type") == "openvswitch"
    assert port.find("parameters").get("interfaceid") == PORT
    assert el.find("target").get("dev") == "tap3f1c8f2e-9a"
    assert el.find("model").get("type") == "virtio"
    assert el.find("mtu").get("size") == "1442"


def test_bridge_falls_back_to_the_network_then_the_option():
    vif = _vif(details={})
    assert vvif.interface_element(vif).find("source").get("bridge") == "br-int"
    vif["network"]["bridge"] = None
    assert vvif.interface_element(vif, "br-x").find("source").get("bridge") == "br-x"
    vif["network"]["mtu"] = None
    assert vvif.interface_element(vif).find("mtu") is None


@pytest.mark.parametrize("vif_type", ["binding_failed", "unbound", "bridge", None])
def test_other_vif_types_are_refused(vif_type):
    with pytest.raises(DriverError, match="unsupported vif_type"):
        vvif.interface_element(_vif(type=vif_type))


def test_plug_events_only_for_ports_not_yet_active():
    active = _vif(id="a", active=True)
    assert vvif.plug_events([_vif(), active]) == [("network-vif-plugged", PORT)]


def test_domain_carries_the_interfaces():
    cfg = vconfig.GuestConfig(name="instance-1", uuid=PORT, vcpus=1, memory_mb=128,
                              virt_type="qemu", disk_path="/d", console_log="/c",
                              interfaces=[vvif.interface_element(_vif())])
    dom = ET.fromstring(vconfig.domain_xml(cfg))
    nics = dom.findall("./devices/interface")
    assert len(nics) == 1 and nics[0].find("virtualport/parameters").get(
        "interfaceid") == PORT
    xml = vvif.interface_xml(_vif())
    assert xml.startswith("<interface type=\"bridge\">")


def test_user_mode_nic_for_hosts_without_neutron():
    el = vvif.user_mode_element()
    assert el.get("type") == "user" and el.find("model").get("type") == "virtio"
