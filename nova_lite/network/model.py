"""The network info cache: what an instance is plugged into, as plain JSON-able dicts.

One list per instance, one entry (a "VIF") per port, in the order the ports were
requested; the same shape as Nova's network_info, so metadata, config drive and the API
views read one structure::

    {"id": PORT_UUID, "address": "fa:16:3e:..", "type": "ovs",
     "details": {"bridge_name": "br-int", "datapath_type": "netdev", ...},
     "devname": "tap" + PORT_UUID[:11], "ovs_interfaceid": PORT_UUID,
     "vnic_type": "normal", "active": False, "preserve_on_delete": False, "tag": None,
     "network": {"id": NET_UUID, "label": NET_NAME, "bridge": "br-int", "mtu": 1442,
                 "project_id": ...,
                 "subnets": [{"id": SUBNET_UUID, "cidr": "10.0.0.0/28", "ip_version": 4,
                              "gateway": "10.0.0.1" or None, "dns": ["8.8.8.8"],
                              "host_routes": [{"destination", "nexthop"}],
                              "enable_dhcp": True,
                              "ips": [{"address": "10.0.0.5", "type": "fixed",
                                       "floating_ips": [{"address": ..,
                                                         "type": "floating"}]}]}]}}

``preserve_on_delete`` is True for ports the user passed in (unbound on delete, never
deleted). The Instance object carries the list as JSON text in ``network_info``
(None: never allocated); ``loads``/``dumps`` convert.
"""

from __future__ import annotations

import json
from typing import Any, Iterator, Optional

from nova_lite import json_text

NetworkInfo = list  # of VIF dicts as above

VIF_TYPE_OVS = "ovs"
VIF_TYPE_UNBOUND = "unbound"
VIF_TYPE_BINDING_FAILED = "binding_failed"
NIC_NAME_LEN = 14


def loads(text: Optional[str]) -> NetworkInfo:
    if not text:
        return []
    value = json_text.loads(text)  # once per server of a detailed list
    return value if isinstance(value, list) else []


def dumps(network_info: NetworkInfo) -> str:
    return json.dumps(network_info, sort_keys=True)


def devname(port_id: str) -> str:
    """The host-side tap name of a port, as Nova and OVN's tooling expect it."""
    return ("tap" + port_id)[:NIC_NAME_LEN]


def fixed_ips(vif: dict) -> Iterator[dict]:
    """Every fixed IP of a VIF, each with its subnet's ip_version."""
    for subnet in vif.get("network", {}).get("subnets", []):
        for ip in subnet.get("ips", []):
            yield {"address": ip["address"], "version": subnet.get("ip_version", 4),
                   "floating_ips": ip.get("floating_ips", [])}


def addresses(network_info: NetworkInfo, extended: bool = True) -> dict[str, list[dict]]:
    """The ``addresses`` of a server view: {network label: [address, ...]}.

    extended adds Nova's OS-EXT-IPS:type and OS-EXT-IPS-MAC:mac_addr keys (server show
    and list); /servers/{id}/ips shows only version and addr.
    """
    out: dict[str, list[dict]] = {}
    for vif in network_info:
        label = vif.get("network", {}).get("label") or vif.get("network", {}).get("id", "")
        entries = out.setdefault(label, [])
        for ip in fixed_ips(vif):
            entries.append(_address(ip["address"], ip["version"], "fixed", vif, extended))
            for fip in ip["floating_ips"]:
                entries.append(_address(fip["address"], 4, "floating", vif, extended))
    return out


def _address(addr: str, version: int, kind: str, vif: dict, extended: bool) -> dict:
    entry: dict[str, Any] = {"version": version, "addr": addr}
    if extended:
        entry["OS-EXT-IPS:type"] = kind
        entry["OS-EXT-IPS-MAC:mac_addr"] = vif.get("address")
    return entry


def all_ips(network_info: NetworkInfo) -> list[tuple[int, str]]:
    """(version, address) of every fixed and floating IP, for the ip/ip6 list filters."""
    out = []
    for vif in network_info:
        for ip in fixed_ips(vif):
            out.append((ip["version"], ip["address"]))
            out.extend((4, f["address"]) for f in ip["floating_ips"])
    return out
