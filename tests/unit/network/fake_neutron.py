"""An in-memory Neutron behind a requests transport adapter.

Mounted on the requests.Session inside a keystoneauth1 Session, so the real
NeutronClient (adapter, URLs, JSON, error bodies) is exercised end to end without a
server. Implements the subset nova_lite uses, with ML2/OVN's binding answers: a port
bound to a host in ``chassis`` gets vif_type ovs, any other host binding_failed.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import session as ks_session

from nova_lite.network.neutron_client import NeutronClient

ENDPOINT = "http://neutron.test:9696"
VIF_DETAILS = {"bridge_name": "br-int", "datapath_type": "netdev", "ovs_create_tap": True,
               "port_filter": True}


class FakeNeutron(requests.adapters.BaseAdapter):
    def __init__(self, chassis: tuple[str, ...] = ("host1",)) -> None:
        super().__init__()
        self.chassis = set(chassis)
        self.networks: dict[str, dict] = {}
        self.subnets: dict[str, dict] = {}
        self.ports: dict[str, dict] = {}
        self.security_groups: dict[str, dict] = {}
        self.floatingips: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self._mac = 0
        self.port_quota = -1

    # -- seeding ------------------------------------------------------------------------
    def add_network(self, name: str, project_id: str, cidr: str = "10.0.0.0/28",
                    shared: bool = False, external: bool = False, mtu: int = 1442,
                    subnet: bool = True) -> dict:
        net = {"id": str(uuid.uuid4()), "name": name, "project_id": project_id,
               "tenant_id": project_id, "shared": shared, "router:external": external,
               "mtu": mtu, "subnets": [], "status": "ACTIVE", "admin_state_up": True,
               "port_security_enabled": True,
               "created_at": f"2026-01-01T00:00:{len(self.networks):02d}Z"}
        self.networks[net["id"]] = net
        if subnet:
            sn = {"id": str(uuid.uuid4()), "network_id": net["id"], "cidr": cidr,
                  "ip_version": 4, "gateway_ip": cidr.rsplit(".", 1)[0] + ".1",
                  "dns_nameservers": [], "host_routes": [], "enable_dhcp": True,
                  "project_id": project_id, "_next": 10}
            self.subnets[sn["id"]] = sn
            net["subnets"].append(sn["id"])
        return net

    def add_security_group(self, name: str, project_id: str) -> dict:
        sg = {"id": str(uuid.uuid4()), "name": name, "project_id": project_id,
              "tenant_id": project_id, "description": "",
              "security_group_rules": [{"id": str(uuid.uuid4()), "direction": "ingress",
                                        "protocol": "icmp", "port_range_min": None,
                                        "port_range_max": None,
                                        "remote_ip_prefix": "0.0.0.0/0",
                                        "remote_group_id": None, "ethertype": "IPv4"}]}
        self.security_groups[sg["id"]] = sg
        return sg

    def add_port(self, network_id: str, project_id: str, **extra: Any) -> dict:
        return self._create_port(dict(extra, network_id=network_id, project_id=project_id))

    # -- behaviour ------------------------------------------------------------------------
    def _default_sg(self, project_id: str) -> str:
        for sg in self.security_groups.values():
            if sg["project_id"] == project_id and sg["name"] == "default":
                return sg["id"]
        return self.add_security_group("default", project_id)["id"]

    def _bind(self, port: dict) -> None:
        host = port.get("binding:host_id")
        if not host:
            port["binding:vif_type"], port["binding:vif_details"] = "unbound", {}
        elif host in self.chassis:
            port["binding:vif_type"], port["binding:vif_details"] = "ovs", dict(VIF_DETAILS)
        else:
            port["binding:vif_type"], port["binding:vif_details"] = "binding_failed", {}

    def _create_port(self, body: dict) -> dict:
        net = self.networks.get(body["network_id"])
        if net is None:
            raise _Error(404, "NetworkNotFound", f"Network {body['network_id']} could not be "
                                                 "found.")
        fixed = body.get("fixed_ips")
        if fixed is None:
            sn = self.subnets[net["subnets"][0]]
            fixed = [{"subnet_id": sn["id"],
                      "ip_address": sn["cidr"].rsplit(".", 1)[0] + f".{sn['_next']}"}]
            sn["_next"] += 1
        else:
            fixed = [{"subnet_id": net["subnets"][0], "ip_address": f["ip_address"]}
                     for f in fixed]
            for f in fixed:
                if any(f["ip_address"] == g["ip_address"] for p in self.ports.values()
                       if p["network_id"] == net["id"] for g in p["fixed_ips"]):
                    raise _Error(409, "IpAddressAlreadyAllocated",
                                 f"IP address {f['ip_address']} already allocated")
        self._mac += 1
        port = {"id": str(uuid.uuid4()), "name": body.get("name", ""),
                "network_id": net["id"], "project_id": body["project_id"],
                "tenant_id": body["project_id"], "mac_address": f"fa:16:3e:00:00:{self._mac:02x}",
                "fixed_ips": fixed, "device_id": body.get("device_id", ""),
                "device_owner": body.get("device_owner", ""), "status": "DOWN",
                "binding:host_id": body.get("binding:host_id"), "binding:vnic_type": "normal",
                "port_security_enabled": True,
                "security_groups": body.get("security_groups") or
                [self._default_sg(body["project_id"])]}
        self._bind(port)
        self.ports[port["id"]] = port
        return port

    # -- HTTP -----------------------------------------------------------------------------
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url)
        self.requests.append((request.method, url.path))
        query: dict[str, list[str]] = {}
        for k, v in parse_qsl(url.query, keep_blank_values=True):
            query.setdefault(k, []).append(v)
        body = json.loads(request.body) if request.body else None
        try:
            status, payload = self._route(request.method, url.path, query, body)
        except _Error as err:
            status, payload = err.status, {"NeutronError": {
                "type": err.kind, "message": err.message, "detail": ""}}
        resp = requests.Response()
        resp.status_code = status
        resp._content = json.dumps(payload).encode() if payload is not None else b""
        resp.headers["Content-Type"] = "application/json"
        resp.url = request.url
        resp.request = request
        return resp

    def close(self) -> None:
        pass

    def _route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        quota = re.fullmatch(r"/v2\.0/quotas/([^/]+)/details", path)
        if quota:
            used = sum(1 for p in self.ports.values() if p["project_id"] == quota.group(1))
            return 200, {"quota": {"port": {"limit": self.port_quota, "used": used,
                                            "reserved": 0}}}
        m = re.fullmatch(r"/v2\.0/([a-z_-]+)(?:/([^/]+))?", path)
        if not m:
            raise _Error(404, "HTTPNotFound", "not found")
        collection, ident = m.groups()
        store = {"networks": self.networks, "subnets": self.subnets, "ports": self.ports,
                 "security_groups": self.security_groups,
                 "floatingips": self.floatingips}.get(collection)
        if store is None:
            raise _Error(404, "HTTPNotFound", f"no {collection}")
        single = collection[:-1]
        if ident is None and method == "GET":
            return 200, {collection: [_public(o) for o in store.values()
                                      if _matches(o, query)]}
        if ident is None and method == "POST" and collection == "ports":
            return 201, {"port": _public(self._create_port(body["port"]))}
        obj = store.get(ident or "")
        if obj is None:
            raise _Error(404, f"{single.capitalize()}NotFound",
                         f"{single.capitalize()} {ident} could not be found.")
        if method == "GET":
            return 200, {single: _public(obj)}
        if method == "PUT" and collection == "ports":
            obj.update(body["port"])
            if "binding:host_id" in body["port"]:
                self._bind(obj)
            return 200, {"port": _public(obj)}
        if method == "DELETE":
            del store[ident]
            return 204, None
        raise _Error(405, "HTTPMethodNotAllowed", "method not allowed")

    # -- a client on this transport ------------------------------------------------------------
    def client(self) -> NeutronClient:
        http = requests.Session()
        http.mount(ENDPOINT, self)
        sess = ks_session.Session(session=http)
        return NeutronClient(ks_adapter.Adapter(sess, endpoint_override=ENDPOINT))


class _Error(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def _public(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def _matches(obj: dict, query: dict[str, list[str]]) -> bool:
    for key, values in query.items():
        if key == "fixed_ips":
            wanted = {v.split("=", 1)[1] for v in values if v.startswith("ip_address=")}
            if not wanted & {f["ip_address"] for f in obj.get("fixed_ips", [])}:
                return False
            continue
        have = obj.get(key)
        if isinstance(have, bool):
            have = str(have)
        if str(have) not in values:
            return False
    return True
