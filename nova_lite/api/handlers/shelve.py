"""shelve, shelveOffload and unshelve (2.77 availability_zone, 2.91 host)."""

from __future__ import annotations

from typing import Any

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers.servers import get_server
from nova_lite.api.handlers.snapshots import create_server_image, start_with_image
from nova_lite.api.schemas import shelve as schema
from nova_lite.compute import states
from nova_lite.objects.block_device import volume_backed

UNSHELVE_TO_HOST_RULE = "os_compute_api:os-shelve:unshelve_to_host"


def _target(inst: Any) -> dict:
    return {"project_id": inst.project_id, "user_id": inst.user_id}


def shelve(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.SHELVE, body)
    inst = get_server(req, id)
    t = states.get("shelve")
    policy.authorize(req.ctx, t.policy, _target(inst))
    states.check_allowed(t.name, inst, req.ctx)  # before recording an image
    if volume_backed(req.conductor.bdm_list_by_instance(req.ctx, id).objects):
        # Nova's: no image, the volumes keep the data; offloaded at once.
        req.conductor.server_action(req.ctx, id, t.name, {"image_id": None})
        return wsgi.Reply(202)
    image = create_server_image(req, inst, f"{inst.display_name}-shelved", "snapshot", {})
    start_with_image(req, id, t.name, {"image_id": image["id"]}, image)
    return wsgi.Reply(202)


def shelve_offload(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    validation.validate(schema.SHELVE_OFFLOAD, body)
    inst = get_server(req, id)
    t = states.get("shelveOffload")
    policy.authorize(req.ctx, t.policy, _target(inst))
    req.conductor.server_action(req.ctx, id, t.name, {})
    return wsgi.Reply(202)


def unshelve(req: wsgi.ApiRequest, id: str, body: dict) -> wsgi.Reply:
    if req.ver >= (2, 91):
        validation.validate(schema.UNSHELVE_V291, body)
    elif req.ver >= (2, 77):
        validation.validate(schema.UNSHELVE_V277, body)
    else:
        validation.validate(schema.UNSHELVE, body)
    inst = get_server(req, id)
    t = states.get("unshelve")
    policy.authorize(req.ctx, t.policy, {"project_id": inst.project_id})
    value = body["unshelve"] if isinstance(body["unshelve"], dict) else {}
    params: dict = {}
    if req.ver >= (2, 77) and "availability_zone" in value:
        params["availability_zone"] = value["availability_zone"]
    if req.ver >= (2, 91) and value.get("host"):
        policy.authorize(req.ctx, UNSHELVE_TO_HOST_RULE, {"project_id": inst.project_id})
        params["host"] = value["host"]
    try:
        req.conductor.server_unshelve(req.ctx, id, params)
    except exception.ComputeHostNotFound as e:  # a bad choice in the body: 400, as Nova
        raise wsgi.bad_request(e.format_message()) from None
    return wsgi.Reply(202)
