"""Nova's image metadata proxy: /images/{image_id}/metadata[/{key}].

The metadata are the image's custom properties, read and written through the image API
(so in Glance, as the caller: Glance decides who may change an image). Like the rest of
the image proxy it is gone from microversion 2.36 on.
"""

from __future__ import annotations

from typing import Any

from nova_lite import exception, policy
from nova_lite.api import validation, wsgi
from nova_lite.api.handlers import images
from nova_lite.api.schemas import image_metadata as schema

RULE = "os_compute_api:image-metadata:%s"
# Nova's default metadata_items quota, which its proxy applies to image metadata.
MAX_ITEMS = 128


def _image(req: wsgi.ApiRequest, image_id: str, action: str) -> dict:
    images.check_version(req)
    policy.authorize(req.ctx, RULE % action)
    return images.get_image(req, image_id)


def _check_quota(metadata: dict) -> None:
    if len(metadata) > MAX_ITEMS:
        raise wsgi.HTTPError(403, "Image metadata limit exceeded")


def _update(req: wsgi.ApiRequest, image: dict, new: dict) -> dict:
    """Make the image's properties exactly ``new``; the properties Glance now holds."""
    old = image.get("properties") or {}
    changed = {k: v for k, v in new.items() if old.get(k) != v}
    removed = [k for k in old if k not in new]
    try:
        return req.images.update(req.ctx, image["id"], changed, removed)["properties"]
    except exception.ImageNotFound:
        raise wsgi.not_found("Image not found.") from None


def index(req: wsgi.ApiRequest, image_id: str) -> wsgi.Reply:
    image = _image(req, image_id, "index")
    return wsgi.Reply(200, {"metadata": dict(image.get("properties") or {})})


def show(req: wsgi.ApiRequest, image_id: str, id: str) -> wsgi.Reply:
    props = _image(req, image_id, "show").get("properties") or {}
    if id not in props:
        raise wsgi.not_found(f"Image metadata item {id} not found.")
    return wsgi.Reply(200, {"meta": {id: props[id]}})


def create(req: wsgi.ApiRequest, image_id: str) -> wsgi.Reply:
    """POST: merge the given items into the image's metadata."""
    image = _image(req, image_id, "create")
    body = validation.body(req, schema.CREATE)
    merged = {**(image.get("properties") or {}), **body["metadata"]}
    _check_quota(merged)
    return wsgi.Reply(200, {"metadata": _update(req, image, merged)})


def update_all(req: wsgi.ApiRequest, image_id: str) -> wsgi.Reply:
    """PUT: replace all of the image's metadata."""
    image = _image(req, image_id, "update_all")
    body = validation.body(req, schema.UPDATE_ALL)
    _check_quota(body["metadata"])
    _update(req, image, body["metadata"])
    return wsgi.Reply(200, {"metadata": body["metadata"]})


def update(req: wsgi.ApiRequest, image_id: str, id: str) -> wsgi.Reply:
    """PUT /{key}: create or replace one item."""
    body = validation.body(req, schema.UPDATE)
    if id not in body["meta"]:
        raise wsgi.bad_request("Request body and URI mismatch")
    image = _image(req, image_id, "update")
    merged: dict[str, Any] = {**(image.get("properties") or {}), **body["meta"]}
    _check_quota(merged)
    _update(req, image, merged)
    return wsgi.Reply(200, {"meta": body["meta"]})


def delete(req: wsgi.ApiRequest, image_id: str, id: str) -> wsgi.Reply:
    image = _image(req, image_id, "delete")
    props = dict(image.get("properties") or {})
    if id not in props:
        raise wsgi.not_found("Invalid metadata key")
    props.pop(id)
    _update(req, image, props)
    return wsgi.Reply(204)
