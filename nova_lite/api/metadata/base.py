"""What an instance learns about itself: the OpenStack and EC2 metadata trees.

One ``InstanceMetadata`` is built from the plain data the conductor hands out for an
instance (``instance_metadata``: the instance, its key pairs, its network info and its
password) and answers both the metadata service (``lookup(path)``) and the config drive
(``files()``), so the two always say the same thing.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any, Iterator, Optional

# OpenStack metadata versions, oldest first; each adds what Nova added in it.
FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO = (
    "2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06")
OCATA, ROCKY = "2017-02-22", "2018-08-27"
OPENSTACK_VERSIONS = (FOLSOM, GRIZZLY, HAVANA, LIBERTY, NEWTON_ONE, NEWTON_TWO, OCATA, ROCKY)
EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
                "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04")

MD_JSON, NET_JSON, UD_NAME = "meta_data.json", "network_data.json", "user_data"
VD_JSON, VD2_JSON, PASS_NAME = "vendor_data.json", "vendor_data2.json", "password"


class NotFound(Exception):
    """No such metadata path."""


def ec2_instance_id(instance_id: Optional[int]) -> str:
    return f"i-{instance_id or 0:08x}"


def _fixed_ips(network_info: list) -> Iterator[tuple[dict, dict, dict]]:
    """(vif, subnet, ip) for every fixed IP of the instance, in VIF order."""
    for vif in network_info or ():
        for subnet in (vif.get("network") or {}).get("subnets") or ():
            for ip in subnet.get("ips") or ():
                yield vif, subnet, ip


def _netmask(cidr: str) -> str:
    import ipaddress

    return str(ipaddress.ip_network(cidr, strict=False).netmask)


def _address(value: Any) -> Optional[str]:
    """An address given as a string or as {"address": ...}."""
    if isinstance(value, dict):
        return value.get("address")
    return value or None


def network_data(network_info: list) -> dict:
    """network_data.json (links, networks, services) from the instance's network info
    cache (nova_lite.network.model): one link per port, one network per fixed IP."""
    links, networks, services = [], [], []
    seen_dns: set[str] = set()
    for vif in network_info or ():
        net = vif.get("network") or {}
        link_id = vif.get("devname") or f"tap{str(vif.get('id', ''))[:11]}"
        links.append({
            "id": link_id, "vif_id": vif.get("id"),
            "type": vif.get("type") or "phy",
            "mtu": net.get("mtu"),
            "ethernet_mac_address": vif.get("address"),
        })
        for subnet in net.get("subnets") or ():
            cidr = subnet.get("cidr") or ""
            version = subnet.get("ip_version") or subnet.get("version") or (
                6 if ":" in cidr else 4)
            dns = [a for a in (_address(d) for d in subnet.get("dns") or ()) if a]
            gateway = _address(subnet.get("gateway"))
            any_net = "0.0.0.0" if version == 4 else "::"
            routes = [{"network": any_net, "netmask": any_net, "gateway": gateway}] \
                if gateway else []
            for r in subnet.get("host_routes") or subnet.get("routes") or ():
                dest = r.get("destination") or r.get("cidr") or ""
                routes.append({"network": dest.split("/")[0],
                               "netmask": _netmask(dest) if dest else None,
                               "gateway": _address(r.get("nexthop") or r.get("gateway"))})
            for ip in subnet.get("ips") or ():
                networks.append({
                    "id": f"network{len(networks)}",
                    "link": link_id,
                    "network_id": net.get("id"),
                    "type": f"ipv{version}_dhcp" if subnet.get("enable_dhcp") else
                    f"ipv{version}",
                    "ip_address": ip.get("address"),
                    "netmask": _netmask(cidr) if cidr else None,
                    "routes": routes,
                    "services": [{"type": "dns", "address": a} for a in dns],
                })
            for a in dns:
                if a not in seen_dns:
                    seen_dns.add(a)
                    services.append({"type": "dns", "address": a})
    return {"links": links, "networks": networks, "services": services}


class InstanceMetadata:
    """The metadata of one instance.

    ``source`` is the conductor's answer: {"instance": Instance, "keypairs": [{"name",
    "type", "public_key"}], "network_info": [...], "password": str}. ``vendordata`` is
    the static vendor data (a dict).
    """

    def __init__(self, source: dict, dhcp_domain: str = "", vendordata: Optional[dict] = None,
                 for_config_drive: bool = False) -> None:
        inst = source["instance"]
        self.uuid: str = inst.uuid
        self.instance_id: Optional[int] = inst.get("id")
        self.name: str = inst.display_name or ""
        host = inst.hostname or ""
        self.hostname = f"{host}.{dhcp_domain}" if dhcp_domain and host else host
        self.project_id: str = inst.project_id
        self.availability_zone: str = inst.availability_zone or ""
        self.launch_index: int = inst.launch_index or 0
        self.reservation_id: str = inst.reservation_id or ""
        self.flavor_name: str = inst.flavor.name if inst.get("flavor") else ""
        self.image_ref: str = inst.image_ref or ""
        self.meta: dict = dict(inst.get("metadata") or {})
        self.user_data: Optional[bytes] = (base64.b64decode(inst.user_data)
                                           if inst.get("user_data") else None)
        self.keypairs: list[dict] = list(source.get("keypairs") or [])
        self.network_info: list = list(source.get("network_info") or [])
        self.password: str = source.get("password") or ""
        self.vendordata = dict(vendordata or {})
        self.for_config_drive = for_config_drive
        self.random_seed = base64.b64encode(os.urandom(512)).decode()

    # -- the OpenStack tree ---------------------------------------------------------------
    def meta_data(self, version: str) -> dict:
        md: dict[str, Any] = {
            "uuid": self.uuid,
            "meta": self.meta,
            "hostname": self.hostname,
            "name": self.name,
            "launch_index": self.launch_index,
            "availability_zone": self.availability_zone,
        }
        if self.keypairs:
            md["public_keys"] = {k["name"]: k["public_key"] for k in self.keypairs}
        if version >= GRIZZLY:
            md["random_seed"] = self.random_seed
        if version >= LIBERTY:
            md["project_id"] = self.project_id
            md["keys"] = [{"name": k["name"], "type": k.get("type") or "ssh",
                           "data": k["public_key"]} for k in self.keypairs]
        if version >= NEWTON_ONE:
            md["devices"] = []
        return md

    def openstack_listing(self, version: str) -> list[str]:
        names = [MD_JSON]
        if not self.for_config_drive:
            names.append(PASS_NAME)
        names.append(VD_JSON)
        if version >= LIBERTY:
            names.append(NET_JSON)
        if version >= NEWTON_TWO:
            names.append(VD2_JSON)
        if self.user_data is not None:
            names.append(UD_NAME)
        return names

    def openstack_item(self, version: str, name: str) -> Any:
        """The content of openstack/<version>/<name>: a dict (JSON), bytes or str."""
        if name == MD_JSON:
            return self.meta_data(version)
        if name == VD_JSON:
            return self.vendordata
        if name == NET_JSON and version >= LIBERTY:
            return network_data(self.network_info)
        if name == VD2_JSON and version >= NEWTON_TWO:
            # Dynamic vendor data targets are not configured: nothing to add.
            return {}
        if name == UD_NAME and self.user_data is not None:
            return self.user_data
        if name == PASS_NAME and not self.for_config_drive:
            return self.password
        raise NotFound(name)

    # -- the EC2 tree ------------------------------------------------------------------------
    def local_ipv4(self) -> str:
        for _vif, _subnet, ip in _fixed_ips(self.network_info):
            if ":" not in (ip.get("address") or ""):
                return ip["address"]
        return ""

    def public_ipv4(self) -> str:
        for _vif, _subnet, ip in _fixed_ips(self.network_info):
            for fip in ip.get("floating_ips") or ():
                if ":" not in (fip.get("address") or ""):
                    return fip["address"]
        return ""

    def ec2_metadata(self) -> dict:
        """The EC2 meta-data tree as nested dicts; leaves are strings."""
        short = self.hostname
        data: dict[str, Any] = {
            "ami-id": self.image_ref,
            "ami-launch-index": str(self.launch_index),
            "ami-manifest-path": "FIXME",
            "block-device-mapping": {"ami": "vda", "root": "/dev/vda"},
            "hostname": short,
            "instance-action": "none",
            "instance-id": ec2_instance_id(self.instance_id),
            "instance-type": self.flavor_name,
            "local-hostname": short,
            "local-ipv4": self.local_ipv4(),
            "placement": {"availability-zone": self.availability_zone},
            "public-hostname": short,
            "public-ipv4": self.public_ipv4(),
            "reservation-id": self.reservation_id,
            "security-groups": "default",
        }
        if self.keypairs:
            data["public-keys"] = {
                str(n): {"openssh-key": k["public_key"], "_name": k["name"]}
                for n, k in enumerate(self.keypairs)}
        return data

    # -- paths ---------------------------------------------------------------------------------
    def lookup(self, path: str) -> Any:
        """The content for a metadata service path (after the host): a listing (list of
        names), a dict (JSON), str or bytes. NotFound for anything else."""
        parts = [p for p in path.strip("/").split("/") if p]
        if not parts:
            return list(EC2_VERSIONS) + ["latest"]
        if parts[0] == "openstack":
            return self._lookup_openstack(parts[1:])
        return self._lookup_ec2(parts)

    def _lookup_openstack(self, parts: list[str]) -> Any:
        if not parts:
            return list(OPENSTACK_VERSIONS) + ["latest"]
        version = self._openstack_version(parts[0])
        if len(parts) == 1:
            return self.openstack_listing(version)
        if len(parts) != 2:
            raise NotFound("/".join(parts))
        return self.openstack_item(version, parts[1])

    @staticmethod
    def _openstack_version(name: str) -> str:
        if name == "latest":
            return OPENSTACK_VERSIONS[-1]
        if name not in OPENSTACK_VERSIONS:
            raise NotFound(name)
        return name

    def _lookup_ec2(self, parts: list[str]) -> Any:
        if parts[0] != "latest" and parts[0] not in EC2_VERSIONS:
            raise NotFound(parts[0])
        if len(parts) == 1:
            names = ["meta-data/"]
            if self.user_data is not None:
                names.append("user-data")
            return names
        if parts[1] == "user-data" and len(parts) == 2:
            if self.user_data is None:
                raise NotFound("user-data")
            return self.user_data
        if parts[1] != "meta-data":
            raise NotFound(parts[1])
        node: Any = self.ec2_metadata()
        for part in parts[2:]:
            if not isinstance(node, dict) or part.startswith("_") or part not in node:
                raise NotFound(part)
            node = node[part]
        return _ec2_render(node, parts[2:])

    # -- the config drive ------------------------------------------------------------------------
    def files(self) -> Iterator[tuple[str, bytes]]:
        """(path, content) of every file of the config drive."""
        for version in OPENSTACK_VERSIONS + ("latest",):
            real = self._openstack_version(version)
            for name in self.openstack_listing(real):
                yield f"openstack/{version}/{name}", _encode(self.openstack_item(real, name))
        ec2 = self.ec2_metadata()
        for version in ("2009-04-04", "latest"):
            yield f"ec2/{version}/meta-data.json", _encode(_ec2_json(ec2))
            if self.user_data is not None:
                yield f"ec2/{version}/user-data", self.user_data


def _ec2_json(node: dict) -> dict:
    out: dict = {}
    for k, v in node.items():
        if k == "public-keys":
            out[k] = {v2["_name"]: [v2["openssh-key"]] for v2 in v.values()}
        elif isinstance(v, dict):
            out[k] = _ec2_json(v)
        else:
            out[k] = v
    return out


def _ec2_render(node: Any, parts: list[str]) -> Any:
    """A dict node becomes its listing (public-keys as "0=name"), a leaf its text."""
    if not isinstance(node, dict):
        return node
    if parts == ["public-keys"]:
        return [f"{n}={v['_name']}" for n, v in sorted(node.items(), key=lambda kv: int(kv[0]))]
    return [f"{k}/" if isinstance(v, dict) else k for k, v in sorted(node.items())
            if not k.startswith("_")]


def _encode(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value).encode()
    return str(value).encode()


def render(value: Any) -> tuple[bytes, str]:
    """HTTP body and content type for a lookup result."""
    if isinstance(value, list):
        return "\n".join(value).encode(), "text/plain"
    if isinstance(value, dict):
        return json.dumps(value).encode(), "application/json"
    if isinstance(value, bytes):
        return value, "application/octet-stream"
    return str(value).encode(), "text/plain"
