"""Request and reply plumbing shared by every handler, and Nova's fault bodies.

A handler takes an ApiRequest (the WebOb request plus the context, microversion and
backends the app resolved once) and returns a Reply; the app turns both errors and
replies into WSGI responses so handlers never build HTTP by hand.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, Optional

import webob
import webob.exc

from nova_lite import exception, json_text
from nova_lite.api import microversion
from nova_lite.context import RequestContext

# Nova names the fault body's single key after the status code.
_FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

JSON_TYPE = "application/json"
# A JSON escape of a UTF-16 surrogate: valid in pairs, a lone one is not text.
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


class HTTPError(Exception):
    """An HTTP-level failure (routing, body parsing) that is not a domain exception."""

    def __init__(self, code: int, message: str, headers: Optional[list] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or []


def bad_request(message: str) -> HTTPError:
    return HTTPError(400, message)


def not_found(message: str = "The resource could not be found.") -> HTTPError:
    return HTTPError(404, message)


@dataclasses.dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: list = dataclasses.field(default_factory=list)


class ApiRequest:
    """What a handler needs about one request, resolved once by the app."""

    __slots__ = ("req", "ctx", "ver", "conf", "conductor", "images", "project_prefix",
                 "_body", "network", "volumes")

    def __init__(self, req: webob.Request, ctx: RequestContext, ver: microversion.Version,
                 conf: Any, conductor: Any, images: Any, project_prefix: str,
                 network: Any = None, volumes: Any = None) -> None:
        self.req = req
        self.ctx = ctx
        self.ver = ver
        self.conf = conf
        self.conductor = conductor
        self.images = images
        self.network = network  # nova_lite.network.api backend (None: no networking)
        self.volumes = volumes  # nova_lite.volume API (None: no Cinder configured)
        # "/<project_id>" when the URL carried one, so links echo the caller's style.
        self.project_prefix = project_prefix
        self._body: Any = None

    @property
    def params(self) -> Any:
        return self.req.GET

    @property
    def host_url(self) -> str:
        return self.req.host_url

    def url(self, *parts: str) -> str:
        """Versioned link to a resource: http://host/v2.1[/project]/<parts>."""
        return "/".join((f"{self.req.host_url}{self.req.script_name}/v2.1"
                         f"{self.project_prefix}",) + parts)

    def bookmark(self, *parts: str) -> str:
        """Unversioned link to a resource: http://host[/project]/<parts>."""
        return "/".join((f"{self.req.host_url}{self.req.script_name}{self.project_prefix}",)
                        + parts)

    def links(self, collection: str, ident: str) -> list[dict]:
        return [{"rel": "self", "href": self.url(collection, ident)},
                {"rel": "bookmark", "href": self.bookmark(collection, ident)}]

    def json_body(self) -> Any:
        """The parsed JSON body; 400 'Malformed request body' when it is not JSON."""
        if self._body is None:
            try:
                raw = self.req.body
            except webob.exc.HTTPRequestEntityTooLarge:  # [oslo_middleware] size limit
                raise HTTPError(413, "Request is too large.") from None
            if not raw:
                raise bad_request("Malformed request body")
            try:
                self._body = json.loads(raw)
                if _depth_over(self._body, MAX_BODY_DEPTH):
                    raise ValueError("nested too deep")
                if _SURROGATE.search(raw):  # "\ud800" alone: text no database can store
                    json.dumps(self._body, ensure_ascii=False).encode("utf-8")
            except (ValueError, RecursionError):  # RecursionError: nested too deep
                raise bad_request("Malformed request body") from None
        return self._body


# No compute API body nests deeper than a few levels; validating or copying a deeper one
# would recurse as deep as it goes, which is the client's choice.
MAX_BODY_DEPTH = 32


def _depth_over(value: Any, limit: int) -> bool:
    """Whether lists and objects nest more than ``limit`` deep (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        elif not isinstance(item, list):
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in item
                     if isinstance(child, (dict, list)))
    return False


def fault_response(code: int, message: str, headers: Optional[list] = None
                   ) -> webob.Response:
    name = _FAULT_NAMES.get(code, "computeFault")
    body = json.dumps({name: {"code": code, "message": message}})
    resp = webob.Response(status=code, body=body.encode(), content_type=JSON_TYPE,
                          charset="UTF-8")
    for k, v in headers or ():
        resp.headers[k] = v
    return resp


# Seconds a client is asked to wait when a dependency (database, message bus) is down.
RETRY_AFTER = 5


def unavailable(message: str) -> webob.Response:
    """503 in Nova's fault format, with Retry-After."""
    return fault_response(503, message, [("Retry-After", str(RETRY_AFTER))])


def exception_response(exc: exception.NovaLiteException) -> webob.Response:
    code = exc.code if isinstance(exc.code, int) and 400 <= exc.code < 600 else 500
    if code == 503:
        return unavailable(exc.format_message())
    return fault_response(code, exc.format_message())


def reply_response(reply: Reply) -> webob.Response:
    if reply.body is None:
        resp = webob.Response(status=reply.status)
        resp.content_type = None
        resp.body = b""
    else:
        resp = webob.Response(status=reply.status,
                              body=json_text.dumps(reply.body),
                              content_type=JSON_TYPE, charset="UTF-8")
    for k, v in reply.headers:
        resp.headers[k] = v
    return resp
