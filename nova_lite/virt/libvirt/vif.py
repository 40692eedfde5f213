"""Libvirt <interface> elements for VIFs (nova_lite.network.model), and their hot-plug.

vif_type ``ovs`` (ML2/OVN, ML2/OVS) is a bridge interface on the integration bridge with
an openvswitch virtualport whose interfaceid is the Neutron port id: libvirt itself adds
the tap to the bridge with ``external_ids:iface-id``, which is what OVN needs to claim
the port and Neutron to send network-vif-plugged. The MAC is the port's, the MTU the
network's (geneve networks are smaller than 1500).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from nova_lite.virt.driver import DriverError
from nova_lite.virt.libvirt.host import device_flags

DEFAULT_BRIDGE = "br-int"


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, attrs)


def interface_element(vif: dict, bridge: str = DEFAULT_BRIDGE,
                      model: str = "virtio") -> ET.Element:
    """The <interface> of one VIF; DriverError for a VIF that cannot be plugged here.
    ``model``: the NIC the guest sees (the boot image's hw_vif_model)."""
    vif_type = vif.get("type")
    if vif_type != "ovs":
        raise DriverError(f"unsupported vif_type {vif_type!r} for port {vif.get('id')}: "
                          "this host plugs only 'ovs' ports (was the port bound to it?)")
    details = vif.get("details") or {}
    el = ET.Element("interface", {"type": "bridge"})
    _sub(el, "mac", address=vif["address"])
    _sub(el, "source", bridge=details.get("bridge_name") or
         (vif.get("network") or {}).get("bridge") or bridge)
    port = _sub(el, "virtualport", type="openvswitch")
    _sub(port, "parameters", interfaceid=vif.get("ovs_interfaceid") or vif["id"])
    _sub(el, "target", dev=vif.get("devname") or ("tap" + vif["id"])[:14])
    _sub(el, "model", type=model)
    mtu = (vif.get("network") or {}).get("mtu")
    if mtu:
        _sub(el, "mtu", size=str(mtu))
    return el


def interface_xml(vif: dict, bridge: str = DEFAULT_BRIDGE) -> str:
    """The element as the text attachDeviceFlags / detachDeviceFlags take."""
    return ET.tostring(interface_element(vif, bridge), encoding="unicode")


def user_mode_element(model: str = "virtio") -> ET.Element:
    """A QEMU user-mode (slirp) NIC, for guests on hosts without Neutron."""
    el = ET.Element("interface", {"type": "user"})
    _sub(el, "model", type=model)
    return el


def plug_events(network_info: list) -> list[tuple[str, str]]:
    """The network-vif-plugged events to wait for before a new guest runs: one per port
    that is not active yet (OVN reports a port up once its tap is on br-int)."""
    return [("network-vif-plugged", v["id"]) for v in network_info if not v.get("active")]


class LibvirtVifMixin:
    """Port hot-plug; mixed into LibvirtDriver (which provides _get, _lookup, _errors)."""

    _lv: Any
    conf: Any

    def attach_interface(self, instance: Any, vif: dict) -> None:
        with self._errors(f"attaching port {vif.get('id')} to {instance.name}"):  # type: ignore[attr-defined]
            dom = self._get(instance)  # type: ignore[attr-defined]
            xml = interface_xml(vif, self.conf.neutron.ovs_bridge)
            dom.attachDeviceFlags(xml, device_flags(self._lv, dom))

    def detach_interface(self, instance: Any, vif: dict) -> None:
        with self._errors(f"detaching port {vif.get('id')} from {instance.name}"):  # type: ignore[attr-defined]
            dom = self._lookup(instance)  # type: ignore[attr-defined]
            if dom is None:
                return
            mac = (vif.get("address") or "").lower()
            if f"<mac address='{mac}'/>" not in dom.XMLDesc(0).lower():
                return
            xml = interface_xml(vif, self.conf.neutron.ovs_bridge)
            dom.detachDeviceFlags(xml, device_flags(self._lv, dom))
