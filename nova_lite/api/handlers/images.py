"""Nova's image proxy (/images: list, show, delete), backed by the image API.

Every call goes to the image service as the caller (with Glance: their token), so it
shows and deletes exactly what the caller may. Like Nova, the proxy is gone from
microversion 2.36 on: those requests get a 404.
"""

from __future__ import annotations

from typing import Any

from nova_lite import exception, policy
from nova_lite.api import common, validation, wsgi

RULE = "os_compute_api:images:index"
SHOW_RULE = "os_compute_api:images:show"
DELETE_RULE = "os_compute_api:images:delete"
_STATUS = {"active": "ACTIVE", "queued": "SAVING", "saving": "SAVING",
           "importing": "SAVING", "deleted": "DELETED", "pending_delete": "DELETED",
           "killed": "ERROR"}


def check_version(req: wsgi.ApiRequest) -> None:
    if req.ver >= (2, 36):
        raise wsgi.not_found()


def get_image(req: wsgi.ApiRequest, image_id: str) -> dict:
    try:
        return req.images.show(req.ctx, image_id)
    except exception.ImageNotFound:
        raise wsgi.not_found("Image not found.") from None


def _basic(req: wsgi.ApiRequest, image: dict) -> dict:
    return {"id": image["id"], "name": image.get("name"),
            "links": req.links("images", image["id"])}


def _show(req: wsgi.ApiRequest, image: dict) -> dict:
    out = _basic(req, image)
    status = _STATUS.get(str(image.get("status", "active")).lower(), "UNKNOWN")
    out.update({
        "status": status,
        "progress": {"ACTIVE": 100, "SAVING": 25}.get(status, 0),
        "minDisk": int(image.get("min_disk") or 0),
        "minRam": int(image.get("min_ram") or 0),
        "created": _iso(image.get("created_at")),
        "updated": _iso(image.get("updated_at")),
        "metadata": dict(image.get("properties") or {}),
        "OS-EXT-IMG-SIZE:size": image.get("size"),
    })
    return out


def _iso(value: Any) -> Any:
    """Store timestamps are already ISO strings; normalise to Nova's '...Z' form."""
    if not value or not isinstance(value, str):
        return common.isotime(value) if value else None
    return value if value.endswith("Z") else value.split(".")[0].split("+")[0] + "Z"


def _list(req: wsgi.ApiRequest) -> tuple[list[dict], int]:
    check_version(req)
    policy.authorize(req.ctx, RULE)
    params = req.params
    images = list(req.images.list(req.ctx))
    images.sort(key=lambda i: (i.get("created_at") or "", i["id"]), reverse=True)
    if "id" in params:
        # Glance's "id=in:a,b" (openstackclient's `server list` resolves names with it).
        value = params["id"]
        wanted = set(value[3:].split(",")) if value.startswith("in:") else {value}
        images = [i for i in images if i["id"] in wanted]
    if "name" in params:
        images = [i for i in images if i.get("name") == params["name"]]
    if "status" in params:
        want = params["status"].upper()
        images = [i for i in images
                  if _STATUS.get(str(i.get("status", "active")).lower()) == want]
    if "minRam" in params:
        n = validation.parse_int("minRam", params["minRam"], 0)
        images = [i for i in images if int(i.get("min_ram") or 0) >= n]
    if "minDisk" in params:
        n = validation.parse_int("minDisk", params["minDisk"], 0)
        images = [i for i in images if int(i.get("min_disk") or 0) >= n]
    limit, marker = common.limit_and_marker(req)
    return common.paginate(images, limit, marker, key=lambda i: i["id"]), limit


def _list_reply(req: wsgi.ApiRequest, detail: bool) -> wsgi.Reply:
    images, limit = _list(req)
    render = _show if detail else _basic
    return common.page_reply(req, "images", detail, [render(req, i) for i in images],
                             images, limit, images[-1]["id"] if images else None)


def index(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list_reply(req, detail=False)


def detail(req: wsgi.ApiRequest) -> wsgi.Reply:
    return _list_reply(req, detail=True)


def show(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    check_version(req)
    policy.authorize(req.ctx, SHOW_RULE)
    return wsgi.Reply(200, {"image": _show(req, get_image(req, id))})


def delete(req: wsgi.ApiRequest, id: str) -> wsgi.Reply:
    check_version(req)
    policy.authorize(req.ctx, DELETE_RULE)
    try:
        req.images.delete(req.ctx, id)
    except exception.ImageNotFound:
        raise wsgi.not_found("Image not found.") from None
    return wsgi.Reply(204)
