"""What a Placement handler gets (PlacementRequest) and gives back (Reply), and
Placement's error body: ``{"errors": [{"status", "title", "detail", "request_id",
"code"}]}`` (``code`` from 1.23)."""

from __future__ import annotations

import dataclasses
import json
from http import HTTPStatus
from typing import Any, Optional

import webob

from nova_lite import policy
from nova_lite.context import RequestContext
from nova_lite.placement import microversion

JSON_TYPE = "application/json"
UNDEFINED_CODE = "placement.undefined_code"


class HTTPError(Exception):
    def __init__(self, status: int, detail: str, code: str = UNDEFINED_CODE,
                 headers: Optional[list] = None, extra: Optional[dict] = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.code = status, detail, code
        self.headers = headers or []
        self.extra = extra or {}


def bad_request(detail: str, code: str = UNDEFINED_CODE) -> HTTPError:
    return HTTPError(400, detail, code)


def not_found(detail: str = "The resource could not be found.") -> HTTPError:
    return HTTPError(404, detail)


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: list = dataclasses.field(default_factory=list)


class PlacementRequest:
    __slots__ = ("req", "ctx", "ver", "conductor")

    def __init__(self, req: webob.Request, ctx: RequestContext,
                 ver: microversion.Version, conductor: Any) -> None:
        self.req, self.ctx, self.ver, self.conductor = req, ctx, ver, conductor

    @property
    def params(self) -> Any:
        return self.req.GET

    def authorize(self, action: str) -> None:
        policy.authorize(self.ctx, action, {"project_id": self.ctx.project_id})

    def json_body(self) -> Any:
        if self.req.content_type != JSON_TYPE:
            raise HTTPError(415, f"The media type {self.req.content_type or None} is not "
                                 f"supported, use {JSON_TYPE}")
        try:
            return json.loads(self.req.body or b"")
        except ValueError as e:
            raise bad_request(f"Malformed JSON: {e}") from None


def error_response(status: int, detail: str, request_id: Optional[str],
                   ver: Optional[microversion.Version], code: str = UNDEFINED_CODE,
                   headers: Optional[list] = None, extra: Optional[dict] = None
                   ) -> webob.Response:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    err: dict[str, Any] = {"status": status, "title": title, "detail": detail,
                           "request_id": request_id}
    if ver is None or ver >= (1, 23):
        err["code"] = code
    err.update(extra or {})
    resp = webob.Response(status=status, body=json.dumps({"errors": [err]}).encode(),
                          content_type=JSON_TYPE, charset="UTF-8")
    for k, v in headers or ():
        resp.headers[k] = v
    return resp


def reply_response(reply: Reply) -> webob.Response:
    if reply.body is None:
        resp = webob.Response(status=reply.status)
        resp.content_type = None
        resp.body = b""
    else:
        resp = webob.Response(status=reply.status, body=json.dumps(reply.body).encode(),
                              content_type=JSON_TYPE, charset="UTF-8")
    for k, v in reply.headers:
        resp.headers[k] = v
    return resp
