"""/servers/{id}/os-volume_attachments: the Cinder volumes of a server; attach, detach,
change (2.85) and swap (admin: the new volume is reserved, the host copies the disk onto
it and switches the guest to it, and the old volume is released).

Attach follows Nova: the volume is looked up as the caller (a volume the caller cannot
see is a 404, as one that does not exist), checked (already attached to this server, not
available, another availability zone: 400) and reserved with a Cinder attachment
without a connector; the conductor records the mapping and the server's host connects
it. Whatever fails after the reservation deletes it, so no volume stays reserved.
A multiattach volume (its volume type says so) may be attached to several servers from
2.60 on (400 before, as Nova); one with more than one read/write attachment cannot be
swapped.
GET of one attachment is also what Cinder asks before it deletes an attachment a user
(not Nova) deletes: a volume no longer attached here is a 404.
"""

from __future__ import annotations

import contextlib
from typing import Any

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import volume_attachments as schema
from nova_lite.conductor.volume_tasks import VOLUME_VM_STATES
from nova_lite.volume import cinder

RULE = "os_compute_api:os-volumes-attachments:%s"
MULTIATTACH = (2, 60)  # volumes attachable to several servers


def _volumes(req: wsgi.ApiRequest) -> Any:
    if req.volumes is None:
        raise exception.VolumesUnavailable()
    return req.volumes


def _server(req: wsgi.ApiRequest, server_id: str, action: str) -> Any:
    inst = get_server(req, server_id)
    policy.authorize(req.ctx, RULE % action, {"project_id": inst.project_id})
    return inst


def _view(req: wsgi.ApiRequest, bdm: Any, created: bool = False) -> dict:
    out = {"device": bdm.get("device_name"), "serverId": bdm.get("instance_uuid"),
           "volumeId": bdm.get("volume_id")}
    if created or req.ver < (2, 89):
        out["id"] = bdm.get("volume_id")
    if req.ver >= (2, 70):
        out["tag"] = bdm.get("tag")
    if req.ver >= (2, 79):
        out["delete_on_termination"] = bool(bdm.get("delete_on_termination"))
    if req.ver >= (2, 89) and not created:
        out["attachment_id"] = bdm.get("attachment_id")
        out["bdm_uuid"] = bdm.get("uuid")
    return out


def _not_attached(server_id: str, volume_id: str) -> wsgi.HTTPError:
    return wsgi.not_found(f"Instance {server_id} is not attached to volume {volume_id}")


def _attached(req: wsgi.ApiRequest, inst: Any, volume_id: str) -> Any:
    if req.volumes is None:  # no Cinder: no volume is attached anywhere
        raise _not_attached(inst.uuid, volume_id)
    try:
        return req.conductor.bdm_get_by_volume(req.ctx, volume_id, inst.uuid)
    except exception.VolumeBDMNotFound:
        raise _not_attached(inst.uuid, volume_id) from None


def index(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "index")
    if req.volumes is None:
        return wsgi.Reply(200, {"volumeAttachments": []})
    params = req.params
    limit = validation.parse_int("limit", params["limit"], 0) if "limit" in params else None
    offset = validation.parse_int("offset", params["offset"], 0) if "offset" in params else 0
    bdms = [b for b in req.conductor.bdm_list_by_instance(req.ctx, inst.uuid)
            if b.get("destination_type") == "volume"]
    bdms = bdms[offset:] if limit is None else bdms[offset:offset + limit]
    return wsgi.Reply(200, {"volumeAttachments": [_view(req, b) for b in bdms]})


def show(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "show")
    return wsgi.Reply(200, {"volumeAttachment": _view(req, _attached(req, inst, id))})


def _check_state(req: wsgi.ApiRequest, inst: Any, action: str) -> None:
    """Before Cinder is asked anything: a locked server (unless admin) or one in a
    state that cannot take the change is a 409."""
    if inst.get("locked") and not req.ctx.is_admin:
        raise exception.InstanceIsLocked(instance_uuid=inst.uuid)
    if inst.vm_state not in VOLUME_VM_STATES or inst.get("task_state") is not None:
        attr, state = (("task_state", inst.task_state) if inst.get("task_state") is not None
                       else ("vm_state", inst.vm_state))
        raise exception.InstanceInvalidState(action=action, instance_uuid=inst.uuid,
                                             attr=attr, state=state)


def create(req: wsgi.ApiRequest, server_id: str) -> wsgi.Reply:
    body = validation.body(req, schema.create(req.ver))
    inst = _server(req, server_id, "create")
    api = _volumes(req)
    att = body["volumeAttachment"]
    volume_id = att["volumeId"]
    _check_state(req, inst, "attach_volume")
    vol = api.get(req.ctx, volume_id)  # VolumeNotFound: 404
    cinder.check_attach(vol, inst.uuid)
    api.check_availability_zone(vol, inst.get("availability_zone"))
    cinder.check_multiattach(vol, req.ver >= MULTIATTACH)
    attachment = api.attachment_create(req.ctx, volume_id, inst.uuid)
    try:
        bdm = req.conductor.server_attach_volume(
            req.ctx, inst.uuid, volume_id, attachment["id"], att.get("device"),
            att.get("tag"), bool(att.get("delete_on_termination", False)))
    except BaseException:
        with contextlib.suppress(Exception):
            api.attachment_delete(req.ctx, attachment["id"])
        raise
    return wsgi.Reply(200, {"volumeAttachment": _view(req, bdm, created=True)})


def update(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    body = validation.body(req, schema.update(req.ver))["volumeAttachment"]
    new_id = body["volumeId"]
    if new_id == id and req.ver >= (2, 85):
        inst = _server(req, server_id, "update")
        bdm = _attached(req, inst, id)
        for key, field in (("device", "device_name"), ("tag", "tag"),
                           ("serverId", "instance_uuid")):
            if key in body and body[key] != bdm.get(field):
                raise wsgi.bad_request(f"The {key} of a volume attachment cannot be "
                                       "changed.")
        if "delete_on_termination" in body:
            req.conductor.server_update_volume(req.ctx, inst.uuid, id,
                                               body["delete_on_termination"])
        return wsgi.Reply(202)
    inst = _server(req, server_id, "swap")
    api = _volumes(req)
    _attached(req, inst, id)
    if new_id == id:
        raise wsgi.bad_request(f"Volume {id} cannot be swapped for itself.")
    _check_state(req, inst, "swap_volume")
    api.check_swappable(req.ctx, api.get(req.ctx, id))
    new = api.get(req.ctx, new_id)  # VolumeNotFound: 404
    cinder.check_attach(new, inst.uuid)
    api.check_availability_zone(new, inst.get("availability_zone"))
    attachment = api.attachment_create(req.ctx, new_id, inst.uuid)
    try:
        req.conductor.server_swap_volume(req.ctx, inst.uuid, id, new_id, attachment["id"])
    except BaseException:
        with contextlib.suppress(Exception):
            api.attachment_delete(req.ctx, attachment["id"])
        raise
    return wsgi.Reply(202)


def delete(req: wsgi.ApiRequest, server_id: str, id: str) -> wsgi.Reply:
    inst = _server(req, server_id, "delete")
    _volumes(req)
    _check_state(req, inst, "detach_volume")
    try:
        req.conductor.server_detach_volume(req.ctx, inst.uuid, id)
    except exception.VolumeBDMNotFound:
        raise _not_attached(inst.uuid, id) from None
    return wsgi.Reply(202)
