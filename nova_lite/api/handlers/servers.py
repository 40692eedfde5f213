"""The servers resource: list, show, create, update and delete.

Data comes only from the conductor (one server_list call per list request); filters the
conductor cannot apply are applied here after fetching the unpaged list, then paged.
"""

from __future__ import annotations

import datetime
import re
import secrets
import string
import uuid as uuidlib
from typing import Any, Callable, Optional

from oslo_utils import strutils

from nova_lite import exception, policy
from nova_lite.api import (block_device_request, common, network_request, validation,
                           volume_snapshot, wsgi)
from nova_lite.api.handlers import availability_zones, flavors, server_groups
from nova_lite.api.handlers import keypairs as keypairs_handler
from nova_lite.api.schemas import servers as schema
from nova_lite.api.views.servers import ServerView
from nova_lite.api.user_regex import UserPattern
from nova_lite.compute import states
from nova_lite.network import model as net_model
from nova_lite.image import properties as image_properties
from nova_lite.objects.instance import Instance
from nova_lite.objects.request_spec import RequestSpec

RULE = "os_compute_api:servers:%s"
MAX_SERVERS_PER_REQUEST = 1000
GiB = 1024 ** 3

def _target(inst: Any) -> dict:
    return {"project_id": inst.project_id}


def get_server(req: wsgi.ApiRequest, server_id: str, read_deleted: bool = False,
               **extras: bool) -> Any:
    """The server, or 404 when it does not exist or belongs to another project.
    ``extras``: server_get's with_groups / with_host_status."""
    inst = (req.conductor.server_get(req.ctx, server_id, read_deleted=True, **extras)
            if read_deleted else req.conductor.server_get(req.ctx, server_id, **extras))
    if not req.ctx.is_admin and inst.project_id != req.ctx.project_id:
        raise exception.InstanceNotFound(instance_id=server_id)
    return inst


# -- list -----------------------------------------------------------------------------

# Exact-match filters on text columns of the same name, applied in SQL.
SQL_EQUAL_FIELDS = ("reservation_id", "user_id", "key_name", "availability_zone",
                    "hostname", "node")
_REGEX_SPECIALS = frozenset(".^$*+?{}[]\\|()")


def _literal_part(pattern: str) -> Optional[str]:
    """The text every match of ``pattern`` contains when it is a plain string, perhaps
    anchored (``^web-1$``); None for a real regular expression."""
    text = pattern[1:] if pattern.startswith("^") else pattern
    text = text[:-1] if text.endswith("$") else text
    if not text or any(c in _REGEX_SPECIALS for c in text):
        return None
    return text


def _field_filter(field: str, value: Any) -> Callable[[Any], bool]:
    return lambda inst: str(getattr(inst, field)) == value


def _list_servers(req: wsgi.ApiRequest, detail: bool) -> list:
    ctx = req.ctx
    ver = req.ver
    action = "detail" if detail else "index"
    policy.authorize(ctx, RULE % action, {"project_id": ctx.project_id})
    params = req.params
    if ver >= (2, 75):
        validation.reject_unknown_query_params(params, schema.LIST_QUERY_PARAMS)
    opts = {k: params[k] for k in params}
    if not ctx.is_admin:
        allowed = schema.USER_FILTERS_V283 if ver >= (2, 83) else schema.USER_FILTERS
        opts = {k: v for k, v in opts.items() if k in allowed}

    project_id: Optional[str] = ctx.project_id
    if "all_tenants" in opts:
        if validation.parse_bool("all_tenants", opts["all_tenants"], empty_is=True):
            policy.authorize(ctx, RULE % f"{action}:get_all_tenants",
                             {"project_id": ctx.project_id})
            project_id = opts.get("project_id") or opts.get("tenant_id")

    filters: dict[str, Any] = {}
    post: list[Callable[[Any], bool]] = []
    if "status" in opts:
        vm_states: set[str] = set()
        wanted = {s.upper() for s in params.getall("status")}
        for status in wanted:
            if status not in states.STATUS_TO_VM_STATES:
                if ver >= (2, 38):
                    raise wsgi.bad_request("Invalid status value")
                return []
            vm_states.update(states.STATUS_TO_VM_STATES[status])
        if "DELETED" in wanted:
            if not ctx.is_admin:
                return []
            filters["deleted"] = True
        if "SOFT_DELETED" in wanted:
            filters["soft_deleted"] = True
        filters["vm_state"] = sorted(vm_states)
        if wanted & states.TASK_STATUSES:
            post.append(lambda i: states.api_status(i.vm_state, i.task_state) in wanted)
    if "image" in opts:
        filters["image"] = opts["image"].rstrip("/").rsplit("/", 1)[-1]
    if "flavor" in opts:
        filters["flavor_id"] = opts["flavor"].rstrip("/").rsplit("/", 1)[-1]
    if opts.get("host"):
        filters["host"] = opts["host"]
    if "uuid" in opts:
        filters["uuids"] = [opts["uuid"]]
    if "soft_deleted" in opts and validation.parse_bool("soft_deleted", opts["soft_deleted"]):
        filters["soft_deleted"] = True
    if "deleted" in opts:
        deleted = validation.parse_bool("deleted", opts["deleted"])
        if deleted or "changes-since" in opts or "changes-before" in opts:
            filters["deleted"] = True
            # Nova counts soft-deleted servers as deleted here
            post.append(lambda i: (bool(i.deleted) or i.vm_state == states.SOFT_DELETED)
                        == deleted)
        # deleted=False alone is the default listing (openstackclient always sends it):
        # no post-filter, so the conductor can apply the page limit in SQL.
    for key, since in (("changes-since", True), ("changes-before", False)):
        if key in opts:
            when = common.parse_time(key, opts[key])
            filters.setdefault("deleted", True)
            post.append(_time_filter(when, since))
    name = opts.get("name") or opts.get("display_name")
    if name:
        rx = UserPattern(name, "name")
        post.append(lambda i: bool(rx.search(i.display_name or "")))
        literal = _literal_part(name)
        if literal:  # narrows the rows read; the pattern itself decides
            filters["name_contains"] = literal
    for key, version in (("ip", 4), ("ip6", 6)):
        if key in opts:
            post.append(_ip_filter(opts[key], version))
    for key in ("tags", "tags-any", "not-tags", "not-tags-any"):
        if opts.get(key):
            filters[key] = sorted({t.strip() for t in opts[key].split(",") if t.strip()})
    if "locked" in opts and ver >= (2, 73):
        locked = validation.parse_bool("locked", opts["locked"])
        post.append(lambda i: bool(i.locked) == locked)
    columns = {key: opts[key] for key in SQL_EQUAL_FIELDS if key in opts}
    if columns:  # in each cell's query, so the page limit still applies there
        filters["columns"] = columns
    for key, field in (("vm_state", "vm_state"), ("task_state", "task_state"),
                       ("power_state", "power_state"),
                       ("description", "display_description"),
                       ("launch_index", "launch_index")):
        if key in opts:
            post.append(_field_filter(field, opts[key]))
    sort = [[field, descending] for field, descending in _sort_params(req)] or None
    down_cells = _down_cells_mode(req, opts)
    limit, marker = common.limit_and_marker(req)
    # Plain rows, not Instances: at 1,000 servers a page objects cost more than the
    # query. An index list needs the detailed rows only for the ip filters.
    detail = detail or "ip" in opts or "ip6" in opts
    if not post:  # the conductor sorts and pages in each cell's query
        return [common.Row(r) for r in req.conductor.server_list_rows(
            ctx, project_id, filters, limit, marker, sort=sort, down_cells=down_cells,
            detail=detail)]
    servers = [common.Row(r) for r in req.conductor.server_list_rows(
        ctx, project_id, filters, None, None, sort=sort, down_cells=down_cells,
        detail=detail)]
    servers = [i for i in servers if all(p(i) for p in post)]
    return common.paginate(servers, limit, marker, key=lambda i: i.uuid)


# Query parameters a 2.69 list may carry and still show down cells' servers as minimal
# records (Nova's rule: what is known of them is their project and that they live).
_DOWN_CELL_PARAMS = frozenset(("all_tenants", "project_id", "tenant_id", "deleted"))


def _down_cells_mode(req: wsgi.ApiRequest, opts: dict) -> str:
    """minimal, skip or error: what the list does with a cell whose database is down.
    Minimal records need 2.69 and a list without filters, sorting or paging (their
    servers cannot be matched, ordered or placed after a marker); otherwise [api]
    list_records_by_skipping_down_cells decides."""
    if req.ver >= (2, 69) and not set(req.params) - _DOWN_CELL_PARAMS and not (
            "deleted" in opts and validation.parse_bool("deleted", opts["deleted"])):
        return "minimal"
    return "skip" if req.conf.api.list_records_by_skipping_down_cells else "error"


def _ip_filter(pattern: str, version: int) -> Callable[[Any], bool]:
    """Nova's ip/ip6 filters: a regular expression matched against the start of each of
    the server's fixed and floating addresses of that IP version."""
    rx = UserPattern(pattern, "ip6" if version == 6 else "ip")

    def check(inst: Any) -> bool:
        text = inst.get("network_info")
        return bool(text) and any(v == version and rx.match(addr)
                                  for v, addr in net_model.all_ips(net_model.loads(text)))
    return check


# Instance attributes behind Nova's server sort keys (those nova_lite has no data for sort
# as equal, as Nova's always-empty columns do).
_SORT_FIELDS = {
    "access_ip_v4": "access_ip_v4", "access_ip_v6": "access_ip_v6",
    "availability_zone": "availability_zone", "config_drive": "config_drive",
    "created_at": "created_at", "display_description": "display_description",
    "display_name": "display_name", "host": "host", "hostname": "hostname",
    "image_ref": "image_ref", "key_name": "key_name", "launch_index": "launch_index",
    "launched_at": "launched_at", "locked_by": "locked_by", "node": "node",
    "power_state": "power_state", "project_id": "project_id", "task_state": "task_state",
    "terminated_at": "terminated_at", "updated_at": "updated_at", "user_id": "user_id",
    "uuid": "uuid", "vm_state": "vm_state", "locked": "locked",
}


def _sort_params(req: wsgi.ApiRequest) -> list[tuple[str, bool]]:
    """[(attribute, descending)] from sort_key/sort_dir; bad keys or directions are 400,
    keys Nova ignores are dropped, and host/node count only for admins."""
    keys = req.params.getall("sort_key")
    dirs = req.params.getall("sort_dir")
    for d in dirs:
        if d not in ("asc", "desc"):
            raise wsgi.bad_request(f"Invalid input for query parameters sort_dir. Value: "
                                   f"{d}. '{d}' is not one of ['asc', 'desc']")
    ignored = set(schema.SORT_KEYS_IGNORED)
    if req.ver >= (2, 73):
        ignored.discard("locked")
    out = []
    for n, key in enumerate(keys):
        if key not in _SORT_FIELDS and key not in schema.SORT_KEYS:
            raise wsgi.bad_request(f"Invalid input for query parameters sort_key. Value: "
                                   f"{key}. '{key}' is not a valid sort key")
        if key in ignored or key not in _SORT_FIELDS or (
                key in ("host", "node") and not req.ctx.is_admin):
            continue
        direction = dirs[n] if n < len(dirs) else (dirs[0] if dirs else "desc")
        out.append((_SORT_FIELDS[key], direction == "desc"))
    if out:  # Nova's default order breaks ties, in the first key's direction
        out += [(f, out[0][1]) for f in ("created_at", "uuid")
                if f not in {k for k, _ in out}]
    return out


def _time_filter(when: datetime.datetime, since: bool) -> Callable[[Any], bool]:
    def check(inst: Any) -> bool:
        changed = inst.updated_at or inst.created_at
        if changed is None:
            return False
        if isinstance(changed, str):  # a list row's time (UTC)
            changed = datetime.datetime.fromisoformat(changed)
        if changed.tzinfo is None:
            changed = changed.replace(tzinfo=datetime.timezone.utc)
        return changed >= when if since else changed <= when
    return check


def _list_reply(req: wsgi.ApiRequest, detail: bool) -> wsgi.Reply:
    servers = _list_servers(req, detail)
    view = ServerView(req)
    limit, _ = common.limit_and_marker(req)
    return common.page_reply(req, "servers", detail,
                             view.detail(servers) if detail else view.index(servers),
                             servers, limit, servers[-1].uuid if servers else None)


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list_reply(req, detail=False)


def detail(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list_reply(req, detail=True)


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    view = ServerView(req)
    # What the view adds comes with the server: a polled show is one conductor call.
    extras = {"with_groups": req.ver >= (2, 71), "with_host_status": view.host_status}
    if req.ver >= (2, 69):  # a server of a cell that is down: Nova's minimal record
        inst = req.conductor.server_get(req.ctx, id, down_cell_minimal=True, **extras)
        if not req.ctx.is_admin and inst.project_id != req.ctx.project_id:
            raise exception.InstanceNotFound(instance_id=id)
    else:
        inst = get_server(req, id, **extras)
    policy.authorize(req.ctx, RULE % "show", _target(inst))
    return wsgi.Reply(200, {"server": view.show(inst, groups=True)})


# -- create ---------------------------------------------------------------------------

def sanitize_hostname(name: str) -> str:
    """A DNS label from a display name: lowercase, [a-z0-9-.], at most 63 characters."""
    text = name.lower().replace(" ", "-").replace("_", "-")
    text = re.sub(r"[^a-z0-9.-]", "", text)
    text = text[:63].strip(".-")
    return text or "server"


def _ref_id(ref: Any) -> str:
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


def _count(value: Any) -> int:
    return int(value) if value is not None else 0


def _check_image(req: wsgi.ApiRequest, server: dict, bdms: Optional[list] = None) -> dict:
    """The image the server boots from: imageRef's, else the root mapping's (an image
    restated as the root disk, or the image metadata of a root volume, whose image id
    is then "": the server is booted from a volume)."""
    image_ref = server.get("imageRef")
    bdms = bdms or []
    root = block_device_request.root_of(bdms)
    if root is not None and (root["source_type"], root["destination_type"]) == (
            "image", "local"):
        if not image_ref:
            image_ref = root["image_id"]
        elif _ref_id(image_ref) != root["image_id"]:
            raise block_device_request.invalid(
                "The image of the root mapping (boot_index 0) is not imageRef.")
    elif root is not None and root["destination_type"] == "volume" and not image_ref:
        return _volume_root_image(req, root)
    elif root is not None:
        block_device_request.check_supported([root])
    if not image_ref:
        if bdms:
            block_device_request.check_boot_sequence(bdms)
        raise wsgi.bad_request("Missing imageRef attribute")
    image = _get_image(req, _ref_id(image_ref))
    if str(image.get("status", "active")).lower() != "active":
        raise wsgi.bad_request(f"Image {image['id']} is not active.")
    if image.get("disk_format") in ("aki", "ari"):
        raise wsgi.bad_request(f"Image {image['id']} is a kernel or ramdisk image and "
                               "cannot be booted by itself.")
    props = image.get("properties") or {}
    invalid = image_properties.invalid_property(props)
    if invalid:
        raise wsgi.bad_request(invalid)
    for key in ("kernel_id", "ramdisk_id"):
        # A direct-kernel-boot image is only bootable if its kernel and ramdisk are.
        if props.get(key):
            part = _get_image(req, props[key])
            if str(part.get("status")).lower() != "active":
                raise wsgi.bad_request(f"Image {part['id']} is not active.")
    return image


def _volume_root_image(req: wsgi.ApiRequest, root: dict) -> dict:
    """The image a root volume comes from, as an image dict whose id is "" (Nova's
    image_ref of a server booted from a volume): the image itself for an image source,
    a volume's image metadata, nothing for a snapshot."""
    if root["source_type"] == "image":
        try:
            image = req.images.show(req.ctx, root["image_id"])
        except (exception.ImageNotFound, exception.ImageNotAuthorized):
            raise block_device_request.invalid(
                f"failed to get image {root['image_id']}.") from None
        if str(image.get("status", "active")).lower() != "active":
            raise wsgi.bad_request(f"Image {image['id']} is not active.")
        return dict(image, id="")
    if root["source_type"] == "volume":
        vol = block_device_request._volume(req.ctx, req.volumes, root)
        if not strutils.bool_from_string(vol.get("bootable", "true")):
            raise exception.InvalidBDM(
                message=f"Block Device {root['volume_id']} is not bootable.")
        meta = dict(vol.get("volume_image_metadata") or {})
        base = {k: meta.pop(k) for k in ("min_ram", "min_disk", "disk_format",
                                         "container_format", "size") if k in meta}
        meta.pop("image_id", None)
        meta.pop("image_name", None)
        meta.pop("checksum", None)
        return dict(base, id="", properties=meta)
    return {"id": "", "properties": {}}


def _get_image(req: wsgi.ApiRequest, image_id: str) -> dict:
    """The image as the caller may see it (Glance applies visibility to their token)."""
    try:
        return req.images.show(req.ctx, image_id)
    except exception.ImageNotFound:
        raise wsgi.bad_request("Can not find requested image") from None
    except exception.ImageNotAuthorized as e:
        raise wsgi.bad_request(e.format_message()) from None


def _check_flavor(req: wsgi.ApiRequest, server: dict, image: dict,
                  volume_backed: bool = False) -> Any:
    flavor_id = _ref_id(server["flavorRef"])
    try:
        flavor = req.conductor.flavor_get(req.ctx, flavor_id)
    except exception.FlavorNotFound as e:
        raise wsgi.bad_request(e.format_message()) from None
    if flavor.disabled or not flavors.usable(req.ctx, flavor):
        raise wsgi.bad_request(f"Flavor {flavor_id} could not be found.")
    if flavor.memory_mb < int(image.get("min_ram") or 0):
        raise wsgi.bad_request("Flavor's memory is too small for requested image.")
    if flavor.root_gb and not volume_backed:  # a root volume has its own size
        disk = flavor.root_gb * GiB
        min_disk = int(image.get("min_disk") or 0) * GiB
        if min_disk > disk:
            raise wsgi.bad_request(
                "Flavor's disk is smaller than the minimum size specified in image "
                f"metadata. Flavor disk is {disk} bytes, minimum size is {min_disk} bytes.")
        for key in ("size", "virtual_size"):
            size = int(image.get(key) or 0)
            if size > disk:
                raise wsgi.bad_request(
                    "Flavor's disk is too small for requested image. Flavor disk is "
                    f"{disk} bytes, image is {size} bytes.")
    return flavor


def _placement(req: wsgi.ApiRequest, server: dict) -> tuple[Optional[str], list[str]]:
    """The requested availability zone and forced hosts ('az:host[:node]' or 2.74 host)."""
    az_text = server.get("availability_zone")
    az, host = None, server.get("host")
    if az_text:
        az, _, rest = az_text.partition(":")
        az = az or None
        if rest:
            host = rest.split(":", 1)[0] or host
    elif req.conf.default_schedule_zone:
        az = req.conf.default_schedule_zone
    if (host or server.get("hypervisor_hostname")) and not req.ctx.is_admin:
        raise exception.PolicyNotAuthorized(action="os_compute_api:servers:create:forced_host")
    if az_text and az is not None:
        found, _services, _hosts = availability_zones.zones(req)
        if az not in found:
            raise wsgi.bad_request("The requested availability zone is not available")
    if server.get("hypervisor_hostname") and not host:
        host = server["hypervisor_hostname"]
    return az, [host] if host else []


def _group(req: wsgi.ApiRequest, body: dict) -> Any:
    """The server group named by the ``group`` scheduler hint (400 if there is none such
    in the caller's project)."""
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    group_id = hints.get("group")
    if not group_id:
        return None
    try:
        return server_groups.get_group(req, group_id)
    except exception.InstanceGroupNotFound as e:
        raise wsgi.bad_request(e.format_message()) from None


def _reject_unsupported(req: wsgi.ApiRequest, server: dict) -> None:
    if server.get("personality"):
        raise wsgi.bad_request("Personality files are not supported.")
    if server.get("trusted_image_certificates"):
        raise wsgi.bad_request("Trusted image certificates are not supported.")


def create(req: wsgi.ApiRequest) -> wsgi.Reply:
    ctx = req.ctx
    policy.authorize(ctx, RULE % "create", {"project_id": ctx.project_id,
                                            "user_id": ctx.user_id})
    body = validation.body(req, schema.create_schema(req.ver))
    server = body["server"]
    _reject_unsupported(req, server)
    min_count = _count(server.get("min_count", 1))
    max_count = _count(server.get("max_count", min_count))
    if min_count < 1 or max_count < 1:
        raise wsgi.bad_request("min_count and max_count must be at least 1")
    if min_count > max_count:
        raise wsgi.bad_request("min_count must be <= max_count")
    if max_count > MAX_SERVERS_PER_REQUEST:
        raise exception.QuotaError(
            reason=f"at most {MAX_SERVERS_PER_REQUEST} servers per request")
    if server.get("hostname") and max_count > 1:
        raise wsgi.bad_request("Cannot set the hostname of more than one server.")
    bdms = block_device_request.parse(server)
    image = _check_image(req, server, bdms)
    if image.get("id"):  # an image of a volume-backed server maps its volumes
        bdms = volume_snapshot.merge(volume_snapshot.image_mappings(image), bdms)
    volume_backed = block_device_request.volume_backed(bdms)
    flavor = _check_flavor(req, server, image, volume_backed)
    net_request = network_request.from_body(req, server, max_count)
    tags = server.get("tags") or []
    az, force_hosts = _placement(req, server)
    bdms = block_device_request.check_all(req, bdms, image, flavor, az, max_count)
    key_name, keypairs = None, None
    if server.get("key_name"):
        keypair = keypairs_handler.for_server(req, server["key_name"])
        key_name, keypairs = keypair.name, [keypair.copy_for_instance()]
    name = server["name"]
    description = server.get("description") if req.ver >= (2, 19) else name
    config_drive = server.get("config_drive")
    if config_drive is not None and not isinstance(config_drive, bool):
        config_drive = validation.parse_bool("config_drive", config_drive)
    return_rid = validation.parse_bool("return_reservation_id",
                                       server.get("return_reservation_id", False))
    reservation_id = "r-" + secrets.token_hex(4)
    now = datetime.datetime.now(datetime.timezone.utc)
    instances = []
    for index in range(max_count):
        display_name = name if max_count == 1 else f"{name}-{index + 1}"
        instances.append(Instance(
            id=None, uuid=str(uuidlib.uuid4()), display_name=display_name,
            display_description=description,
            hostname=server.get("hostname") or sanitize_hostname(display_name),
            project_id=ctx.project_id, user_id=ctx.user_id, host=None, node=None,
            vm_state=states.BUILDING, task_state=states.SCHEDULING, power_state=0,
            image_ref=image["id"], flavor=flavor, vcpus=flavor.vcpus,
            memory_mb=flavor.memory_mb, root_gb=flavor.root_gb, key_name=key_name,
            keypairs=keypairs,
            availability_zone=az, pinned_availability_zone=az,
            metadata=dict(server.get("metadata") or {}), tags=sorted(set(tags)),
            system_metadata=image_properties.system_metadata(image),
            user_data=server.get("user_data"),
            access_ip_v4=validation.normalized_ip(server.get("accessIPv4")),
            access_ip_v6=validation.normalized_ip(server.get("accessIPv6")),
            config_drive="True" if config_drive else "", locked=False, launch_index=index,
            reservation_id=reservation_id, launched_at=None, terminated_at=None,
            created_at=now, updated_at=None, deleted=False, deleted_at=None, fault=None,
            cell_name=None, network_request=net_request, network_info=None))
    spec = RequestSpec(instance_uuid=instances[0].uuid, project_id=ctx.project_id,
                       user_id=ctx.user_id, flavor=flavor, image_id=image["id"] or None,
                       availability_zone=az, num_instances=max_count, ignore_hosts=[],
                       force_hosts=force_hosts, instance_group=_group(req, body),
                       scheduler_hints={}, is_bfv=volume_backed,
                       block_device_mappings=block_device_request.objects(bdms,
                                                                        instances[0].uuid))
    if spec.instance_group is not None:
        spec.scheduler_hints = {"group": [spec.instance_group.uuid]}
    reserved = block_device_request.reserve(req, spec.block_device_mappings)
    try:
        req.conductor.server_create(ctx, instances, spec, min_count=min_count)
    except Exception:
        block_device_request.unreserve(req, reserved)
        raise
    if return_rid:
        return wsgi.Reply(202, {"reservation_id": reservation_id})
    first = instances[0]
    view = ServerView(req)
    body_out = {"server": {
        "id": first.uuid,
        "links": view.links(first.uuid),
        "OS-DCF:diskConfig": server.get("OS-DCF:diskConfig", "MANUAL"),
        "security_groups": network_request.security_group_names(net_request),
        "adminPass": server.get("adminPass") or _password(),
    }}
    return wsgi.Reply(202, body_out, [("Location", view.links(first.uuid)[0]["href"])])


def _password(length: int = 12) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


# -- update and delete ------------------------------------------------------------------

def update(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    body = validation.body(req, schema.update_schema(req.ver))
    inst = get_server(req, id)
    policy.authorize(req.ctx, RULE % "update", _target(inst))
    server = body["server"]
    values: dict[str, Any] = {}
    for key, field in (("name", "display_name"), ("description", "display_description"),
                       ("hostname", "hostname"), ("accessIPv4", "access_ip_v4"),
                       ("accessIPv6", "access_ip_v6")):
        if key in server:
            values[field] = server[key]
    for field in ("access_ip_v4", "access_ip_v6"):
        if field in values:
            values[field] = validation.normalized_ip(values[field])
    if values:
        inst = req.conductor.server_update(req.ctx, id, values)
    view = ServerView(req)
    if req.ver >= (2, 75):
        return wsgi.Reply(200, {"server": view.show(inst, groups=True)})
    return wsgi.Reply(200, {"server": view.show(inst, extended=False)})


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    inst = get_server(req, id)
    policy.authorize(req.ctx, RULE % "delete", _target(inst))
    shelved_image = None
    if inst.vm_state in (states.SHELVED, states.SHELVED_OFFLOADED):
        shelved_image = (inst.get("system_metadata") or {}).get("shelved_image_id")
    req.conductor.server_delete(req.ctx, id)
    if shelved_image:  # a shelved server's image goes with it, as in Nova
        from nova_lite.api.handlers.snapshots import delete_image

        delete_image(req, shelved_image)
    return wsgi.Reply(204)
