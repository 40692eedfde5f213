"""POST /servers/{id}/action rebuild: re-create the server from an image on its host.

Fields by microversion: name, metadata, adminPass, preserve_ephemeral, accessIPv4/6,
diskConfig; 2.19 description; 2.54 key_name (null removes it); 2.57 user_data (null
removes it; personality no longer accepted); 2.63 trusted_image_certificates; 2.90
hostname (2.94: a fully qualified name). The reply is the server (Nova's reduced view
before 2.75, the full one from 2.75) with its adminPass. From 2.93 a volume-backed
server's root volume is re-imaged with the new image (Cinder's os-reimage).
"""

from __future__ import annotations

import secrets
import string
from typing import Any, Optional

from nova_lite import exception, policy
from nova_lite.api import block_device_request, validation, wsgi
from nova_lite.api.handlers import keypairs as keypairs_handler
from nova_lite.api.handlers import servers
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas.server_rebuild import rebuild_schema
from nova_lite.api.views.servers import ServerView
from nova_lite.compute import states
from nova_lite.image import properties as image_properties

TRUSTED_CERTS_RULE = "os_compute_api:servers:rebuild:trusted_certs"


def _image(req: wsgi.ApiRequest, ref: str) -> dict:
    """The new image, with the checks of a boot (exists, active, bootable)."""
    return servers._check_image(req, {"imageRef": ref})


def _check_fits(flavor: Any, image: dict) -> None:
    """The server keeps its flavor: the new image must fit it (the 400s of a boot)."""
    if flavor.memory_mb < int(image.get("min_ram") or 0):
        raise wsgi.bad_request("Flavor's memory is too small for requested image.")
    if flavor.root_gb:
        disk = flavor.root_gb * servers.GiB
        min_disk = int(image.get("min_disk") or 0) * servers.GiB
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


def _check_volume_backed(req: wsgi.ApiRequest, id: str, image: dict, flavor: Any,
                         ) -> bool:
    """Whether the server is volume-backed, with Nova's checks of its rebuild. Before
    2.93 it is rebuilt around its root volume with the image it was made from (the
    volume is not re-imaged); another image is Nova's 400. From 2.93 the root volume is
    re-imaged with the new image, which must fit the flavor's memory and the volume
    (min_disk; Cinder checks the image's size itself)."""
    root = req.conductor.bdm_list_by_instance(req.ctx, id).root()
    if root is None or root.destination_type != "volume":
        return False
    vol: Optional[dict] = None
    if root.get("volume_id") and req.volumes is not None:
        try:
            vol = req.volumes.get(req.ctx, root.volume_id)
        except exception.NovaLiteException:
            vol = None
    if req.ver >= (2, 93):
        if flavor.memory_mb < int(image.get("min_ram") or 0):
            raise wsgi.bad_request("Flavor's memory is too small for requested image.")
        size = root.get("volume_size") or (vol or {}).get("size")
        if size:
            block_device_request.check_volume_min_disk(image, int(size))
        return True
    original = root.get("image_id")
    if original is None and vol is not None:
        original = (vol.get("volume_image_metadata") or {}).get("image_id")
    if original != image["id"]:
        raise wsgi.bad_request(f"Image {image['id']} is unacceptable: Unable to rebuild "
                               "with a different image for a volume-backed server.")
    return True


def _password(length: int = 12) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _values(req: wsgi.ApiRequest, rb: dict, image: dict) -> dict:
    values: dict[str, Any] = {"image_ref": image["id"]}
    for key, field in (("name", "display_name"), ("metadata", "metadata"),
                       ("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
        if key in rb:
            values[field] = rb[key]
    if req.ver >= (2, 19) and "description" in rb:
        values["display_description"] = rb["description"]
    if req.ver >= (2, 54) and "key_name" in rb:
        if rb["key_name"] is None:  # null removes the key
            values["key_name"], values["keypairs"] = None, []
        else:  # the caller's own key pair, as at create
            keypair = keypairs_handler.for_server(req, rb["key_name"])
            values["key_name"] = keypair.name
            values["keypairs"] = [keypair.copy_for_instance()]
    if req.ver >= (2, 57) and "user_data" in rb:
        values["user_data"] = rb["user_data"]
    if req.ver >= (2, 90) and "hostname" in rb:
        values["hostname"] = rb["hostname"]
    return values


def rebuild(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(rebuild_schema(req.ver), body)
    rb = body["rebuild"]
    inst = get_server(req, id)
    t = states.get("rebuild")
    target = {"project_id": inst.project_id}
    policy.authorize(req.ctx, t.policy, target)
    if rb.get("trusted_image_certificates"):
        policy.authorize(req.ctx, TRUSTED_CERTS_RULE, target)
        raise wsgi.bad_request("Trusted image certificates are not supported.")
    if rb.get("personality"):
        raise wsgi.bad_request("Personality files are not supported.")
    image = _image(req, rb["imageRef"])
    volume_backed = _check_volume_backed(req, id, image, inst.flavor)
    if not volume_backed:  # a root volume has its own size
        _check_fits(inst.flavor, image)
    values = _values(req, rb, image)
    if volume_backed:  # "" says booted from a volume: kept, as Nova keeps it
        values["image_ref"] = inst.image_ref
    preserve = rb.get("preserve_ephemeral", False)
    if not isinstance(preserve, bool):
        preserve = validation.parse_bool("preserve_ephemeral", preserve)
    params = {"values": values, "preserve_ephemeral": preserve,
              "image_system_metadata": image_properties.system_metadata(image)}
    if volume_backed and req.ver >= (2, 93):
        params["reimage_image_id"] = image["id"]
    inst = req.conductor.server_action(req.ctx, id, t.name, params)
    view = ServerView(req)
    server = (view.show(inst, groups=True) if req.ver >= (2, 75)
              else view.show(inst, extended=False, groups=True))
    server["adminPass"] = rb.get("adminPass") or _password()
    return wsgi.Reply(202, {"server": server})


HANDLERS = {"rebuild": rebuild}
