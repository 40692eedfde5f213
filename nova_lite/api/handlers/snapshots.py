"""createImage and createBackup: a snapshot of the server's disk in the image service.

The image is recorded here first (``queued``) so its id can be answered at once, then the
compute host uploads into it; if the conductor refuses the action, the image is deleted
again. Below 2.45 the image is named by a Location header, from 2.45 in the body.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception, policy
from nova_lite.api import validation, volume_snapshot, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import snapshots as schema
from nova_lite.compute import states
from nova_lite.image import snapshot as snapshot_meta
from nova_lite.objects.block_device import volume_backed

LOG = logging.getLogger(__name__)


def _target(inst: Any) -> dict:
    return {"project_id": inst.project_id, "user_id": inst.user_id}


def _base_meta(req: wsgi.ApiRequest, inst: Any, name: str, image_type: str,
               extra: dict) -> dict:
    base = None
    if snapshot_meta.needs_base_image(inst):
        try:
            base = req.images.show(req.ctx, inst.image_ref)
        except exception.ImageNotFound:
            base = None  # deleted since the boot: nothing to inherit
    return snapshot_meta.image_meta(inst, name, image_type, req.ctx.user_id, base, extra)


def create_server_image(req: wsgi.ApiRequest, inst: Any, name: str, image_type: str,
                        extra: dict) -> dict:
    """Record the (queued) image a snapshot of ``inst`` will fill, owned by the caller's
    project (as in Nova)."""
    return req.images.create(req.ctx, _base_meta(req, inst, name, image_type, extra))


def _volume_bdms(req: wsgi.ApiRequest, inst: Any) -> Optional[list]:
    """The server's mappings when it is volume-backed, else None."""
    bdms = req.conductor.bdm_list_by_instance(req.ctx, inst.uuid).objects
    return bdms if volume_backed(bdms) else None


def delete_image(req: wsgi.ApiRequest, image_id: str) -> None:
    try:
        req.images.delete(req.ctx, image_id)
    except exception.ImageNotFound:
        pass
    except Exception:
        LOG.exception("could not delete image %s", image_id)


def start_with_image(req: wsgi.ApiRequest, server_id: str, action: str, params: dict,
                     image: dict) -> None:
    """Ask the conductor to start ``action``; the image goes again if it refuses."""
    try:
        req.conductor.server_action(req.ctx, server_id, action, params)
    except BaseException:
        delete_image(req, image["id"])
        raise


def _reply(req: wsgi.ApiRequest, image_id: str, location: bool = True) -> wsgi.Reply:
    if req.ver >= (2, 45):
        return wsgi.Reply(202, {"image_id": image_id})
    headers = [("Location", req.links("images", image_id)[0]["href"])] if location else []
    return wsgi.Reply(202, None, headers)


def create_image(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.CREATE_IMAGE, body)
    value = body["createImage"]
    inst = get_server(req, id)
    t = states.get("createImage")
    policy.authorize(req.ctx, t.policy, _target(inst))
    states.check_allowed(t.name, inst, req.ctx)  # before recording an image
    bdms = _volume_bdms(req, inst)
    if bdms is not None:  # Nova's API snapshots the volumes itself
        policy.authorize(req.ctx, t.policy + ":allow_volume_backed", _target(inst))
        meta = _base_meta(req, inst, value["name"], "snapshot", value.get("metadata") or {})
        image = volume_snapshot.create(req.ctx, req.images, req.volumes, bdms, meta)
        LOG.info("instance %s: volume-backed snapshot %s", inst.uuid, image["id"])
        return _reply(req, image["id"])
    image = create_server_image(req, inst, value["name"], "snapshot",
                                value.get("metadata") or {})
    start_with_image(req, id, t.name, {"image_id": image["id"]}, image)
    return _reply(req, image["id"])


def create_backup(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.CREATE_BACKUP, body)
    value = body["createBackup"]
    rotation = int(value["rotation"])
    inst = get_server(req, id)
    t = states.get("createBackup")
    policy.authorize(req.ctx, t.policy, _target(inst))
    states.check_allowed(t.name, inst, req.ctx)
    if _volume_bdms(req, inst) is not None:
        raise wsgi.bad_request("Backup is not supported for volume-backed instances.")
    extra = {str(k): str(v) for k, v in (value.get("metadata") or {}).items()}
    extra["backup_type"] = value["backup_type"]
    image = create_server_image(req, inst, value["name"], "backup", extra)
    start_with_image(req, id, t.name, {"image_id": image["id"],
                                       "backup_type": value["backup_type"],
                                       "rotation": rotation}, image)
    return _reply(req, image["id"], location=rotation > 0)
