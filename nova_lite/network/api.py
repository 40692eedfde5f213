"""The network API: what the compute API and compute hosts ask of the network service.

Two backends behind one interface. ``NeutronAPI`` (chosen when [neutron] names an
auth_type or an endpoint_override) creates, binds, unbinds and deletes Neutron ports and
builds the network info cache (``nova_lite.network.model``) from them. ``NoNetworkAPI``
is the all-in-one / fake-driver mode without Neutron: servers get no ports, and only
networks "none" or "auto" are accepted.

The API validates requests synchronously (so a bad network is a 400, a port in use a
409); the compute host allocates when it builds, with its own [neutron] credentials. Both
call Neutron as the service user and scope everything to the instance's project
explicitly, which is also what lets a noauth Neutron work.
"""

from __future__ import annotations

import ipaddress
import logging
import uuid as uuidlib
from typing import Any, Optional

from nova_lite import exception
from nova_lite.network import model
from nova_lite.network.neutron_client import NeutronClient, NeutronError, is_not_found

LOG = logging.getLogger(__name__)

BINDING_HOST = "binding:host_id"
BINDING_VIF_TYPE = "binding:vif_type"
BINDING_VIF_DETAILS = "binding:vif_details"
BINDING_VNIC_TYPE = "binding:vnic_type"
NEUTRON_FIELDS_ON_UNBIND = {"device_id": "", "device_owner": "", BINDING_HOST: None}


def _is_uuid(value: Any) -> bool:
    try:
        uuidlib.UUID(str(value))
        return True
    except ValueError:
        return False


def parse_networks(networks: Any, is_v237: bool) -> Any:
    """The create body's ``networks`` as stored in network_request: "none", "auto" or a
    list of {"network_id", "port_id", "fixed_ip", "tag"}. Omitted means "auto" (Nova's
    behaviour before 2.37, where 2.37 makes the key required)."""
    if networks is None or networks == "auto":
        return "auto"
    if networks == "none":
        return "none"
    out = []
    for item in networks:
        net_id, port_id, fixed_ip = item.get("uuid"), item.get("port"), item.get("fixed_ip")
        if port_id is None and net_id is None:
            raise exception.Invalid(message="Bad networks format: network uuid is not in "
                                            "proper format ('None')")
        if net_id is not None and not _is_uuid(net_id):
            raise exception.Invalid(message=f"Bad networks format: network uuid is not in "
                                            f"proper format ({net_id})")
        if fixed_ip is not None:
            try:
                ipaddress.ip_address(fixed_ip)
            except ValueError:
                raise exception.Invalid(
                    message=f"Invalid fixed IP address ({fixed_ip})") from None
        out.append({"network_id": None if port_id else net_id, "port_id": port_id,
                    "fixed_ip": None if port_id else fixed_ip, "tag": item.get("tag")})
    return out


class NoNetworkAPI:
    """No Neutron: servers have no ports and no security groups beyond 'default'."""

    enabled = False

    def validate_request(self, project_id: str, is_admin: bool, networks: Any,
                         security_groups: list[str], max_count: int) -> None:
        if isinstance(networks, list) and networks:
            raise exception.NetworkingUnavailable()
        for name in security_groups:
            if name != "default":
                raise exception.Invalid(message=f"Security group {name} not found.")

    def allocate_for_instance(self, instance_uuid: str, project_id: str, host: str,
                              availability_zone: str, request: dict) -> list:
        return []

    def deallocate_for_instance(self, instance_uuid: str, network_info: list) -> None:
        return None

    def bind_host(self, instance_uuid: str, host: str, network_info: list) -> list:
        return network_info  # no ports to bind

    def unbind_host(self, instance_uuid: str) -> None:
        return None

    def refresh_network_info(self, instance_uuid: str, network_info: list) -> list:
        return network_info


class NeutronAPI:
    """Ports, bindings and security groups through Neutron."""

    enabled = True

    def __init__(self, client: NeutronClient, ovs_bridge: str = "br-int") -> None:
        self.client = client
        self.ovs_bridge = ovs_bridge

    # -- lookups ---------------------------------------------------------------------------
    def _visible(self, net: dict, project_id: str, is_admin: bool) -> bool:
        return bool(is_admin or net.get("shared") or net.get("project_id") == project_id)

    def available_networks(self, project_id: str) -> list[dict]:
        """The project's own and shared networks, external ones left out, oldest first."""
        nets = {n["id"]: n for n in self.client.list_networks(project_id=project_id)}
        for n in self.client.list_networks(shared=True):
            nets.setdefault(n["id"], n)
        usable = [n for n in nets.values() if not n.get("router:external")]
        return sorted(usable, key=lambda n: (n.get("created_at") or "", n["id"]))

    def get_network(self, network_id: str, project_id: str, is_admin: bool) -> dict:
        """A network the project may use; NetworkNotFound otherwise (another project's
        network does not exist for it)."""
        try:
            net = self.client.show_network(network_id)
        except NeutronError as err:
            if is_not_found(err):
                raise exception.NetworkNotFound(network_id=network_id) from None
            raise
        if not self._visible(net, project_id, is_admin):
            raise exception.NetworkNotFound(network_id=network_id)
        return net

    def get_port(self, port_id: str, project_id: str, is_admin: bool) -> dict:
        try:
            port = self.client.show_port(port_id)
        except NeutronError as err:
            if is_not_found(err):
                raise exception.PortNotFound(port_id=port_id) from None
            raise
        if not is_admin and port.get("project_id") != project_id:
            raise exception.PortNotFound(port_id=port_id)
        return port

    def security_group_ids(self, project_id: str, names: list[str]) -> list[str]:
        """Ids of the project's security groups named (or with the id) in names."""
        if not names:
            return []
        groups = self.client.list_security_groups(project_id=project_id)
        ids = []
        for name in names:
            found = [g for g in groups if g["id"] == name] or \
                [g for g in groups if g["name"] == name]
            if not found and name == "default":
                continue  # Neutron creates the project's default group with its first port
            if not found:
                raise exception.SecurityGroupNotFound(security_group_id=name)
            if len(found) > 1:
                raise exception.NoUniqueMatch(
                    message=f"Multiple security groups found matching '{name}'. Use an ID "
                            "to be more specific.")
            ids.append(found[0]["id"])
        return list(dict.fromkeys(ids))

    def _resolve_auto(self, project_id: str, explicit: bool) -> list[dict]:
        nets = self.available_networks(project_id)
        if len(nets) > 1:
            raise exception.NetworkAmbiguous()
        if not nets and explicit:
            raise exception.UnableToAutoAllocateNetwork(project_id=project_id)
        return [{"network_id": n["id"], "port_id": None, "fixed_ip": None, "tag": None}
                for n in nets]

    # -- the API's checks ----------------------------------------------------------------------
    def validate_request(self, project_id: str, is_admin: bool, networks: Any,
                         security_groups: list[str], max_count: int,
                         explicit_auto: bool = True) -> None:
        """Fail fast, before anything is recorded: unknown or foreign networks and ports
        (400), a port in use (409), ambiguous "auto" (409), unknown groups (400)."""
        try:
            self.security_group_ids(project_id, security_groups)
        except exception.SecurityGroupNotFound as err:
            raise exception.Invalid(message=err.format_message()) from None
        if networks == "none":
            return
        items = self._resolve_auto(project_id, explicit_auto) if networks == "auto" \
            else networks
        for item in items:
            try:
                self._validate_item(item, project_id, is_admin, max_count)
            except (exception.NetworkNotFound, exception.PortNotFound) as err:
                raise exception.Invalid(message=err.format_message()) from None
        self._check_port_quota(project_id, sum(1 for i in items if not i.get("port_id"))
                               * max_count)

    def _check_port_quota(self, project_id: str, wanted: int) -> None:
        """Nova's 403 when the servers' new ports would exceed the project's port quota."""
        if not wanted:
            return
        try:
            ports = self.client.show_quota_details(project_id).get("port") or {}
        except NeutronError as err:
            if err.status in (404, 403):  # no quota details extension / not allowed
                return
            raise
        limit = ports.get("limit", -1)
        if limit >= 0 and ports.get("used", 0) + ports.get("reserved", 0) + wanted > limit:
            raise exception.QuotaError(reason="Maximum number of ports exceeded")

    def _validate_item(self, item: dict, project_id: str, is_admin: bool,
                       max_count: int) -> None:
        if item.get("port_id"):
            if max_count > 1:
                raise exception.Invalid(
                    message="Unable to launch multiple instances with a single configured "
                            "port ID. Please launch your instance one by one with different "
                            "ports.")
            port = self.get_port(item["port_id"], project_id, is_admin)
            if port.get("device_id"):
                raise exception.PortInUse(port_id=item["port_id"])
            return
        net = self.get_network(item["network_id"], project_id, is_admin)
        if not net.get("subnets"):
            raise exception.NetworkRequiresSubnet(network_uuid=net["id"])
        if item.get("fixed_ip"):
            if max_count > 1:
                raise exception.Invalid(message="max_count cannot be greater than 1 if a "
                                                "fixed_ip is specified.")
            if self.client.list_ports(network_id=net["id"],
                                      fixed_ips=f"ip_address={item['fixed_ip']}"):
                raise exception.FixedIpAlreadyInUse(address=item["fixed_ip"],
                                                    network_id=net["id"])

    # -- allocation on the compute host --------------------------------------------------------
    def allocate_for_instance(self, instance_uuid: str, project_id: str, host: str,
                              availability_zone: str, request: dict) -> list:
        """Create or bind one port per requested network/port, bound to ``host``; the
        network info cache of them. All or nothing: on failure what was done is undone."""
        networks = request.get("networks", "auto")
        if networks == "none":
            return []
        items = self._resolve_auto(project_id, False) if networks == "auto" else networks
        if not items:
            return []
        sg_ids = self.security_group_ids(project_id, request.get("security_groups") or [])
        done: list[tuple[dict, bool]] = []  # (port, created by us)
        try:
            for item in items:
                done.append(self._bind_one(instance_uuid, project_id, host,
                                           availability_zone, item, sg_ids))
            return self._network_info([p for p, _ in done],
                                      {p["id"]: not created for p, created in done},
                                      {p["id"]: item.get("tag") for (p, _), item in
                                       zip(done, items)})
        except Exception:
            for port, created in done:
                self._release_port(port["id"], preserve=not created)
            raise

    def allocate_port(self, instance_uuid: str, project_id: str, host: str,
                      availability_zone: str, network_id: Optional[str],
                      port_id: Optional[str], fixed_ip: Optional[str],
                      tag: Optional[str] = None) -> dict:
        """One more port for a running instance (interface attach); its VIF."""
        if network_id is None and port_id is None:
            nets = self.available_networks(project_id)
            if len(nets) > 1:
                raise exception.NetworkAmbiguous()
            if not nets:
                raise exception.UnableToAutoAllocateNetwork(project_id=project_id)
            network_id = nets[0]["id"]
        item = {"network_id": network_id, "port_id": port_id, "fixed_ip": fixed_ip, "tag": tag}
        port, created = self._bind_one(instance_uuid, project_id, host, availability_zone,
                                       item, [])
        try:
            return self._network_info([port], {port["id"]: not created},
                                      {port["id"]: tag})[0]
        except Exception:
            self._release_port(port["id"], preserve=not created)
            raise

    def _bind_one(self, instance_uuid: str, project_id: str, host: str, az: str, item: dict,
                  sg_ids: list[str]) -> tuple[dict, bool]:
        binding = {"device_id": instance_uuid, "device_owner": f"compute:{az or 'nova'}",
                   BINDING_HOST: host}
        if item.get("port_id"):
            port = self.get_port(item["port_id"], project_id, True)
            if port.get("device_id") and port["device_id"] != instance_uuid:
                raise exception.PortInUse(port_id=port["id"])
            port = self.client.update_port(port["id"], binding)
            created = False
        else:
            body: dict[str, Any] = dict(binding, network_id=item["network_id"],
                                        project_id=project_id)
            if item.get("fixed_ip"):
                body["fixed_ips"] = [{"ip_address": item["fixed_ip"]}]
            if sg_ids:
                body["security_groups"] = sg_ids
            port = self.client.create_port(body)
            created = True
        if port.get(BINDING_VIF_TYPE) in (model.VIF_TYPE_UNBOUND,
                                          model.VIF_TYPE_BINDING_FAILED, None):
            self._release_port(port["id"], preserve=not created)
            raise exception.PortBindingFailed(port_id=port["id"])
        return port, created

    def _release_port(self, port_id: str, preserve: bool) -> None:
        """Delete a port nova_lite created; only unbind one the user passed in."""
        try:
            if preserve:
                self.client.update_port(port_id, dict(NEUTRON_FIELDS_ON_UNBIND))
            else:
                self.client.delete_port(port_id)
        except NeutronError as err:
            if not is_not_found(err):
                raise

    def deallocate_for_instance(self, instance_uuid: str, network_info: list) -> None:
        """Every port bound to the instance: created ones deleted, passed-in ones unbound."""
        preserve = {v["id"] for v in network_info if v.get("preserve_on_delete")}
        for port in self.client.list_ports(device_id=instance_uuid):
            self._release_port(port["id"], preserve=port["id"] in preserve)

    def deallocate_port(self, instance_uuid: str, port_id: str, network_info: list) -> None:
        vif = next((v for v in network_info if v["id"] == port_id), None)
        self._release_port(port_id, preserve=bool(vif and vif.get("preserve_on_delete")))

    def bind_host(self, instance_uuid: str, host: str, network_info: list) -> list:
        """Bind every port of the instance to ``host`` (unshelve on another host); the
        refreshed cache (its VIFs inactive until the new host plugs them)."""
        for port in self.client.list_ports(device_id=instance_uuid):
            bound = self.client.update_port(port["id"], {BINDING_HOST: host})
            if bound.get(BINDING_VIF_TYPE) in (model.VIF_TYPE_UNBOUND,
                                               model.VIF_TYPE_BINDING_FAILED, None):
                raise exception.PortBindingFailed(port_id=port["id"])
        return self.refresh_network_info(instance_uuid, network_info)

    def unbind_host(self, instance_uuid: str) -> None:
        """The instance left its host (shelve offload): its ports stay its own, unbound."""
        for port in self.client.list_ports(device_id=instance_uuid):
            self.client.update_port(port["id"], {BINDING_HOST: None})

    def refresh_network_info(self, instance_uuid: str, network_info: list) -> list:
        """The cache rebuilt from Neutron (after network-changed: a floating IP, a new
        fixed IP), keeping the order, preserve flags and tags it had."""
        ports = {p["id"]: p for p in self.client.list_ports(device_id=instance_uuid)}
        order = [v["id"] for v in network_info if v["id"] in ports]
        order += [pid for pid in ports if pid not in order]
        old = {v["id"]: v for v in network_info}
        return self._network_info(
            [ports[pid] for pid in order],
            {pid: bool(old.get(pid, {}).get("preserve_on_delete")) for pid in order},
            {pid: old.get(pid, {}).get("tag") for pid in order})

    # -- the cache -------------------------------------------------------------------------------
    def _network_info(self, ports: list[dict], preserve: dict[str, bool],
                      tags: dict[str, Any]) -> list:
        if not ports:
            return []
        net_ids = sorted({p["network_id"] for p in ports})
        nets = {n["id"]: n for n in self.client.list_networks(id=net_ids)}
        subnets = {s["id"]: s for s in self.client.list_subnets(network_id=net_ids)}
        fips: dict[str, list[dict]] = {}
        try:
            for fip in self.client.list_floatingips(port_id=[p["id"] for p in ports]):
                fips.setdefault(fip.get("fixed_ip_address") or "", []).append(
                    {"address": fip["floating_ip_address"], "type": "floating"})
        except NeutronError as err:
            if err.status != 404:  # no L3 extension: no floating IPs
                raise
        return [self._vif(p, nets.get(p["network_id"], {}), subnets, fips,
                          preserve.get(p["id"], False), tags.get(p["id"])) for p in ports]

    def _vif(self, port: dict, net: dict, subnets: dict, fips: dict, preserve: bool,
             tag: Any) -> dict:
        by_subnet: dict[str, list[dict]] = {}
        for ip in port.get("fixed_ips", []):
            by_subnet.setdefault(ip["subnet_id"], []).append(
                {"address": ip["ip_address"], "type": "fixed",
                 "floating_ips": fips.get(ip["ip_address"], [])})
        vif_subnets = []
        for subnet_id, ips in by_subnet.items():
            sn = subnets.get(subnet_id, {})
            vif_subnets.append({
                "id": subnet_id, "cidr": sn.get("cidr"), "ip_version": sn.get("ip_version", 4),
                "gateway": sn.get("gateway_ip"), "dns": list(sn.get("dns_nameservers") or []),
                "host_routes": list(sn.get("host_routes") or []),
                "enable_dhcp": bool(sn.get("enable_dhcp", True)), "ips": ips})
        details = dict(port.get(BINDING_VIF_DETAILS) or {})
        return {
            "id": port["id"], "address": port.get("mac_address"),
            "type": port.get(BINDING_VIF_TYPE), "details": details,
            "devname": model.devname(port["id"]), "ovs_interfaceid": port["id"],
            "vnic_type": port.get(BINDING_VNIC_TYPE, "normal"),
            "active": port.get("status") == "ACTIVE", "preserve_on_delete": preserve,
            "tag": tag,
            "network": {"id": port["network_id"], "label": net.get("name") or port["network_id"],
                        "bridge": details.get("bridge_name") or self.ovs_bridge,
                        "mtu": net.get("mtu"), "project_id": net.get("project_id"),
                        "subnets": vif_subnets},
        }

    # -- what the API shows ---------------------------------------------------------------------
    def instance_ports(self, instance_uuid: str) -> list[dict]:
        return self.client.list_ports(device_id=instance_uuid)

    def instance_security_groups(self, instance_uuid: str) -> list[dict]:
        ids: list[str] = []
        for port in self.instance_ports(instance_uuid):
            ids.extend(port.get("security_groups") or [])
        ids = list(dict.fromkeys(ids))
        if not ids:
            return []
        groups = {g["id"]: g for g in self.client.list_security_groups(id=ids)}
        return [groups[i] for i in ids if i in groups]

    def _find_group(self, project_id: str, name: str) -> dict:
        groups = self.client.list_security_groups(project_id=project_id)
        found = [g for g in groups if g["id"] == name] or \
            [g for g in groups if g["name"] == name]
        if not found:
            raise exception.SecurityGroupNotFound(security_group_id=name)
        return found[0]

    def add_security_group(self, instance_uuid: str, project_id: str, name: str) -> None:
        group = self._find_group(project_id, name)
        ports = self.instance_ports(instance_uuid)
        if not ports:
            raise exception.SecurityGroupCannotBeApplied()
        for port in ports:
            if not port.get("port_security_enabled", True) or not port.get("fixed_ips"):
                raise exception.SecurityGroupCannotBeApplied()
        for port in ports:
            groups = list(port.get("security_groups") or [])
            if group["id"] not in groups:
                self.client.update_port(port["id"], {"security_groups": groups + [group["id"]]})

    def remove_security_group(self, instance_uuid: str, project_id: str, name: str) -> None:
        group = self._find_group(project_id, name)
        found = False
        for port in self.instance_ports(instance_uuid):
            groups = list(port.get("security_groups") or [])
            if group["id"] in groups:
                found = True
                self.client.update_port(port["id"], {
                    "security_groups": [g for g in groups if g != group["id"]]})
        if not found:
            raise exception.SecurityGroupNotExistsForInstance(security_group_id=name,
                                                              instance_id=instance_uuid)


def neutron_configured(conf: Any) -> bool:
    """[neutron] names a way to reach Neutron (auth_type or endpoint_override)."""
    group = conf.neutron
    return bool(group.auth_type or group.endpoint_override)


def get_network_api(conf: Any) -> Any:
    """NeutronAPI when [neutron] is configured, else NoNetworkAPI."""
    if not neutron_configured(conf):
        return NoNetworkAPI()
    from nova_lite.network.neutron_client import client_from_conf

    return NeutronAPI(client_from_conf(conf), conf.neutron.ovs_bridge)
