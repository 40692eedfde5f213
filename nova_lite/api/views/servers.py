"""How a server looks on the wire, per microversion.

One ServerView is built per request: it resolves the microversion gates and policy
checks once, then renders each server with plain reads, so a 100-server detail page
costs a few milliseconds and no RPC per server. A server is an Instance (show) or a
list's plain row (conductor.server_rows, as a common.Row), read alike by _f.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any, Callable, Optional

from nova_lite import policy
from nova_lite.api import common, wsgi
from nova_lite.compute import states
from nova_lite.image import properties as image_properties
from nova_lite.network import model as net_model
from nova_lite.objects.instance import instance_name

EXTENDED_ATTRS_RULE = "os_compute_api:os-extended-server-attributes"
HOST_STATUS_RULE = "os_compute_api:servers:show:host_status"

_PROGRESS_STATUSES = frozenset(("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE",
                                "MIGRATING"))
_FAULT_STATUSES = frozenset(("ERROR", "DELETED"))


def allowed(ctx: Any, rule: str) -> bool:
    """policy.check, falling back to 'admins only' for rules the policy file lacks."""
    try:
        return bool(policy.check(ctx, rule, {"project_id": ctx.project_id}))
    except Exception:  # an unregistered rule must not turn a GET into a 500
        return bool(ctx.is_admin)


def is_minimal(inst: Any) -> bool:
    """A record of a server whose cell database is down (2.69): no state is known."""
    if isinstance(inst, dict):
        return "vm_state" not in inst
    return not hasattr(inst, "_obj_vm_state")


def _f(obj: Any, name: str, default: Any = None) -> Any:
    """A row's key or a versioned object's field without lazy-loading (unset ->
    default)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, "_obj_" + name, default)


def _getter(obj: Any) -> Callable[..., Any]:
    """_f bound to one server: ``f(name, default=None)`` (one type check per server)."""
    if isinstance(obj, dict):
        return obj.get
    return lambda name, default=None: getattr(obj, "_obj_" + name, default)


def _isotime(value: Any) -> Optional[str]:
    """common.isotime of a datetime or of a row's time text (UTC, no offset)."""
    if isinstance(value, str):
        return value[:19] + "Z"
    return common.isotime(value)


def _strtime(value: Any) -> Optional[str]:
    if isinstance(value, str):
        return value if len(value) > 19 else value + ".000000"
    return common.strtime(value)


def _instance_name(inst: Any) -> str:
    if isinstance(inst, dict):
        return instance_name(inst.get("id"), inst["uuid"])
    return inst.name


@functools.lru_cache(maxsize=4096)
def host_id(project_id: Optional[str], host: Optional[str]) -> str:
    """Nova's hostId: the host hashed with the project (one per pair, and a list page
    holds few pairs, so each is hashed once)."""
    if not host:
        return ""
    return hashlib.sha224(f"{project_id}{host}".encode()).hexdigest()


class ServerView:
    def __init__(self, req: wsgi.ApiRequest) -> None:
        self.req = req
        ver = req.ver
        self.ver = ver
        ctx = req.ctx
        self.is_admin = bool(ctx.is_admin)
        self.ext_attrs = allowed(ctx, EXTENDED_ATTRS_RULE)
        self.host_status = ver >= (2, 16) and allowed(ctx, HOST_STATUS_RULE)
        self._host_states: Optional[dict] = None
        self._volumes: dict[str, list] = {}  # uuid -> [{"id", "delete_on_termination"}]
        self._servers_url = req.url("servers")
        self._servers_bookmark = req.bookmark("servers")
        self._flavors_bookmark = req.bookmark("flavors")
        self._images_bookmark = req.bookmark("images")

    # -- pieces ------------------------------------------------------------------------
    def links(self, uuid: str) -> list[dict]:
        return [{"rel": "self", "href": f"{self._servers_url}/{uuid}"},
                {"rel": "bookmark", "href": f"{self._servers_bookmark}/{uuid}"}]

    def _image(self, inst: Any) -> Any:
        image_ref = _f(inst, "image_ref")
        if not image_ref:
            return ""  # booted from volume
        image = {"id": image_ref,
                 "links": [{"rel": "bookmark", "href": f"{self._images_bookmark}/{image_ref}"}]}
        if self.ver >= (2, 98):
            # Recorded at boot (as Nova does): never a call to the image service per server.
            image["properties"] = image_properties.from_system_metadata(
                _f(inst, "system_metadata"))
        return image

    def _flavor(self, flavor: Any) -> dict:
        f = _getter(flavor)
        if self.ver >= (2, 47):
            return {"vcpus": f("vcpus"), "ram": f("memory_mb"), "disk": f("root_gb"),
                    "ephemeral": f("ephemeral_gb", 0), "swap": f("swap", 0),
                    "original_name": f("name"), "extra_specs": dict(f("extra_specs") or {})}
        fid = f("flavorid")
        return {"id": fid,
                "links": [{"rel": "bookmark", "href": f"{self._flavors_bookmark}/{fid}"}]}

    def _fault(self, fault: Any) -> Optional[dict]:
        if fault is None:
            return None
        code = _f(fault, "code")
        out = {"code": code, "created": _isotime(_f(fault, "created_at")),
               "message": _f(fault, "message")}
        details = _f(fault, "details")
        if details and (self.is_admin or code != 500):
            out["details"] = details
        return out

    def _host_state(self, host: Optional[str]) -> str:
        if not host:
            return ""
        if self._host_states is None:
            self._host_states = {}
            for svc in self.req.conductor.service_list(self.req.ctx, binary="nova-compute"):
                self._host_states[svc.host] = svc.host_status()
        return self._host_states.get(host, "UNKNOWN")

    @staticmethod
    def _addresses(inst: Any) -> dict:
        network_info = _f(inst, "network_info")
        return net_model.addresses(net_model.loads(network_info)) if network_info else {}

    # -- whole servers -----------------------------------------------------------------
    def basic(self, inst: Any) -> dict:
        uuid = _f(inst, "uuid")
        if is_minimal(inst):
            return {"id": uuid, "status": "UNKNOWN", "links": self.links(uuid)}
        return {"id": uuid, "name": _f(inst, "display_name"), "links": self.links(uuid)}

    def _minimal(self, inst: Any, groups: bool) -> dict:
        """A server of a cell whose database is down (2.69): what the API database
        knows. A list's record carries the project and creation time; a show's
        (groups=True) adds the user, image, flavor, zone and server groups."""
        s = self.basic(inst)
        s["tenant_id"] = _f(inst, "project_id")
        s["created"] = _isotime(_f(inst, "created_at"))
        if not groups:
            return s
        s["user_id"] = _f(inst, "user_id") or "UNKNOWN"
        s["image"] = self._image(inst)
        s["flavor"] = self._flavor(_f(inst, "flavor"))
        s["OS-EXT-AZ:availability_zone"] = _f(inst, "availability_zone") or "UNKNOWN"
        s["OS-EXT-STS:power_state"] = 0
        if self.ver >= (2, 71):
            s["server_groups"] = self._server_groups(inst, s["id"])
        return s

    def _server_groups(self, inst: Any, uuid: str) -> list[str]:
        """2.71 server_groups: as the server was read with them, else asked for."""
        carried = _f(inst, "server_groups")
        if carried is not None:
            return list(carried)
        return list(self.req.conductor.server_groups_of(self.req.ctx, uuid))

    def show(self, inst: Any, extended: bool = True, groups: bool = False) -> dict:
        """One server. extended=False is Nova's reduced view (update below 2.75);
        groups adds server_groups (show, update and rebuild only, from 2.71)."""
        if is_minimal(inst):
            return self._minimal(inst, groups)
        f = _getter(inst)
        ver = self.ver
        uuid = f("uuid")
        vm_state = f("vm_state")
        task_state = f("task_state")
        status = states.api_status(vm_state, task_state)
        project_id = f("project_id")
        host = f("host")
        s: dict[str, Any] = {
            "id": uuid,
            "name": f("display_name"),
            "status": status,
            "tenant_id": project_id,
            "user_id": f("user_id"),
            "metadata": dict(f("metadata") or {}),
            "hostId": host_id(project_id, host),
            "image": self._image(inst),
            "flavor": self._flavor(f("flavor")),
            "created": _isotime(f("created_at")),
            "updated": _isotime(f("updated_at") or f("created_at")),
            "addresses": self._addresses(inst),
            "accessIPv4": f("access_ip_v4") or "",
            "accessIPv6": f("access_ip_v6") or "",
            "links": self.links(uuid),
            "OS-DCF:diskConfig": "MANUAL",
        }
        if status in _PROGRESS_STATUSES:
            s["progress"] = 0
        if status in _FAULT_STATUSES:
            fault = self._fault(f("fault"))
            if fault:
                s["fault"] = fault
        if ver >= (2, 9):
            s["locked"] = bool(f("locked"))
        if ver >= (2, 19):
            s["description"] = f("display_description")
        if ver >= (2, 26):
            s["tags"] = list(f("tags") or [])
        if ver >= (2, 63):
            s["trusted_image_certificates"] = None
        if ver >= (2, 73):
            sysmeta = f("system_metadata") or {}
            s["locked_reason"] = sysmeta.get("locked_reason") if s.get("locked") else None
        if groups and ver >= (2, 71):
            s["server_groups"] = self._server_groups(inst, uuid)
        if not extended:
            return s
        s["OS-EXT-AZ:availability_zone"] = f("availability_zone") or ""
        s["config_drive"] = f("config_drive") or ""
        s["key_name"] = f("key_name")
        s["OS-SRV-USG:launched_at"] = _strtime(f("launched_at"))
        s["OS-SRV-USG:terminated_at"] = _strtime(f("terminated_at"))
        s["OS-EXT-STS:vm_state"] = vm_state
        s["OS-EXT-STS:task_state"] = task_state
        s["OS-EXT-STS:power_state"] = f("power_state", 0)
        s["os-extended-volumes:volumes_attached"] = self._volumes_attached(
            uuid, f("volumes_attached"))
        if self.ext_attrs:
            s["OS-EXT-SRV-ATTR:host"] = host
            s["OS-EXT-SRV-ATTR:hypervisor_hostname"] = f("node")
            s["OS-EXT-SRV-ATTR:instance_name"] = _instance_name(inst)
            if ver >= (2, 3):
                s["OS-EXT-SRV-ATTR:reservation_id"] = f("reservation_id")
                s["OS-EXT-SRV-ATTR:launch_index"] = f("launch_index", 0)
                s["OS-EXT-SRV-ATTR:hostname"] = f("hostname")
                s["OS-EXT-SRV-ATTR:kernel_id"] = ""
                s["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
                s["OS-EXT-SRV-ATTR:root_device_name"] = None
                s["OS-EXT-SRV-ATTR:user_data"] = f("user_data")
        if ver >= (2, 90):
            s["OS-EXT-SRV-ATTR:hostname"] = f("hostname")
        if self.host_status:
            carried = f("host_status")
            s["host_status"] = carried if carried is not None else self._host_state(host)
        if ver >= (2, 96):
            s["pinned_availability_zone"] = f("pinned_availability_zone")
        if ver >= (2, 100):
            s["scheduler_hints"] = {}
        return s

    def index(self, servers: list) -> list[dict]:
        return [self.basic(i) for i in servers]

    def detail(self, servers: list) -> list[dict]:
        # a list's servers come with their volumes; any without are read in one call
        self._load_volumes([_f(i, "uuid") for i in servers
                            if not is_minimal(i) and _f(i, "volumes_attached") is None])
        return [self.show(i) for i in servers]

    def _load_volumes(self, uuids: list[str]) -> None:
        """The attached volumes of servers read without them (a show), in one
        conductor call."""
        missing = [u for u in uuids if u not in self._volumes]
        if not missing:
            return
        found = self.req.conductor.bdm_list_by_instances(self.req.ctx, missing)
        for uuid, bdms in found.items():
            self._volumes[uuid] = [
                {"id": b.volume_id, "delete_on_termination": bool(b.delete_on_termination)}
                for b in bdms if b.destination_type == "volume" and b.volume_id]

    def _volumes_attached(self, uuid: str, carried: Optional[list]) -> list[dict]:
        """os-extended-volumes:volumes_attached: each volume's id, and from 2.3 whether
        it goes with the server; ``carried``: those the server was read with."""
        if carried is None:
            self._load_volumes([uuid])
        volumes = (carried if carried is not None else self._volumes.get(uuid)) or []
        if self.ver >= (2, 3):
            return [dict(v) for v in volumes]
        return [{"id": v["id"]} for v in volumes]
