"""rescue and unrescue: boot the server from a rescue image, its own disk attached second.

The rescue image is the server's own image unless ``rescue_image_ref`` names another;
the answer carries the administrator password of the rescue system, as Nova's does.
A rescue image with hw_rescue_device / hw_rescue_bus asks for a stable device rescue
(virt.rescue_device); from 2.87 that also rescues a server booted from a volume, which
the conductor refuses otherwise.
"""

from __future__ import annotations

import secrets
import string

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.schemas import rescue as schema
from nova_lite.compute import states
from nova_lite.virt import rescue_device

BFV_RESCUE_VERSION = (2, 87)

PASSWORD_LENGTH = 12


def _password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))


def rescue(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.RESCUE, body)
    value = body["rescue"] or {}
    inst = get_server(req, id)
    t = states.get("rescue")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id,
                                         "user_id": inst.user_id})
    image_ref = value.get("rescue_image_ref")
    stable = None
    if image_ref:
        try:
            image = req.images.show(req.ctx, image_ref)
        except exception.ImageNotFound:
            raise exception.UnsupportedRescueImage(image=image_ref) from None
        if image.get("status") != "active" or image.get("disk_format") in ("aki", "ari"):
            raise exception.UnsupportedRescueImage(image=image_ref)
        stable = rescue_device.stable_device(image.get("properties") or {})
    password = value.get("adminPass") or _password()
    allow_bfv = stable is not None and req.ver >= BFV_RESCUE_VERSION
    req.conductor.server_action(req.ctx, id, t.name, {"rescue_image_ref": image_ref,
                                                       "admin_password": password,
                                                       "allow_bfv_rescue": allow_bfv})
    return wsgi.Reply(200, {"adminPass": password})


def unrescue(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.UNRESCUE, body)
    inst = get_server(req, id)
    t = states.get("unrescue")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id,
                                         "user_id": inst.user_id})
    req.conductor.server_action(req.ctx, id, t.name, {})
    return wsgi.Reply(202)
