"""The compute API's WSGI pipeline around authentication, from oslo.middleware as Nova's.

Outermost first: CORS ([cors]) -> HTTPProxyToWSGI (X-Forwarded-Proto and Forwarded,
with [oslo_middleware] enable_proxy_headers_parsing) -> request id (x-openstack-request-id
and x-compute-request-id on every response; a caller's valid X-OpenStack-Request-ID
becomes the global request id) -> malformed URL (400 for a path or query string that
is not UTF-8) -> /healthcheck -> fault wrapper (an unexpected error is a
500 in Nova's fault format, never a traceback to the client) -> request body size limit
([oslo_middleware] max_request_body_size, 413) -> authentication -> the API.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from typing import Any, Callable, Iterable

import webob
import webob.dec
from oslo_context import context as oslo_context
from oslo_middleware import cors, http_proxy_to_wsgi, request_id, sizelimit

from nova_lite.api import healthcheck, wsgi
from nova_lite.api.handlers import versions
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)

class ComputeRequestId:
    """oslo.middleware's request id (the same environ keys, the caller's valid
    X-OpenStack-Request-ID as the global request id, x-openstack-request-id on every
    response), also as x-compute-request-id (Nova's old name), as plain WSGI: the webob
    request and response it would build cost more than a version document's whole
    answer."""

    headers = (request_id.HTTP_RESP_HEADER_REQUEST_ID, "x-compute-request-id")

    def __init__(self, app: Callable, conf: Any = None) -> None:
        self.application = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        inbound = environ.get("HTTP_X_OPENSTACK_REQUEST_ID", "")
        if inbound and _GLOBAL_ID.match(inbound):
            environ[request_id.GLOBAL_REQ_ID] = inbound
        req_id = oslo_context.generate_request_id()
        environ[request_id.ENV_REQUEST_ID] = req_id

        def _start(status: str, headers: list, exc_info: Any = None) -> Any:
            have = {k.lower() for k, _v in headers}
            headers = list(headers) + [(h, req_id) for h in self.headers if h not in have]
            return start_response(status, headers, exc_info)

        return self.application(environ, _start)


_GLOBAL_ID = re.compile(request_id.ID_FORMAT)


class MalformedURL:
    """400 for a path or query string that is not UTF-8 once percent-decoded (e.g.
    ``?status=%FF%FE``): every layer below decodes them and would fail on it."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        try:
            environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8")
            urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True,
                                   encoding="utf-8", errors="strict")
        except (UnicodeError, ValueError):
            return wsgi.fault_response(400, "Malformed request URL: the path and query "
                                            "string must be UTF-8."
                                       )(environ, start_response)
        return self.app(environ, start_response)


class FaultWrapper:
    """Last line of defence: whatever escapes below becomes a 500 in Nova's fault format
    (logged with its traceback, as the bug it is), and the size limiter's plain 413
    becomes Nova's overLimit fault."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        replaced: list = []

        def _start(status: str, headers: list, exc_info: Any = None) -> Any:
            if status.startswith("413") and not any(
                    k.lower() == "content-type" and v.startswith(wsgi.JSON_TYPE)
                    for k, v in headers):
                replaced.append(True)
                return None
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, _start)
        except Exception:
            LOG.exception("Unexpected error in the API middleware")
            return wsgi.fault_response(500, "Unexpected API Error. Please report this to "
                                            "the operator with the request id."
                                       )(environ, start_response)
        if replaced:
            if hasattr(body, "close"):
                body.close()
            return wsgi.fault_response(413, "Request is too large.")(environ, start_response)
        return body


class _Direct:
    """oslo.middleware's request/response hooks without its per-request introspection of
    process_response's signature (a measurable share of a small request's time)."""

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> Any:
        response = self.process_request(req)
        if response:
            return response
        return self.process_response(req.get_response(self.application), request=req)


class _SizeLimit(sizelimit.RequestBodySizeLimiter):
    """oslo.middleware's body size limit, skipped for requests that carry no body."""

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if not environ.get("CONTENT_LENGTH") and "HTTP_TRANSFER_ENCODING" not in environ:
            return self.application(environ, start_response)
        return super().__call__(environ, start_response)


class _CORS(_Direct, cors.CORS):
    pass


class _HTTPProxyToWSGI(_Direct, http_proxy_to_wsgi.HTTPProxyToWSGI):
    """Passes requests straight on while proxy headers are not to be parsed."""

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        if not self._conf_get("enable_proxy_headers_parsing"):
            return self.application(environ, start_response)
        return super().__call__(environ, start_response)


def build_pipeline(app: Callable, conductor_api: Any, whoami: Callable
                   ) -> Callable[..., Iterable[bytes]]:
    """``app``: the API with its authentication middleware; ``whoami``: the same
    authentication around healthcheck.whoami_app (who may see detailed health)."""
    inner = FaultWrapper(_SizeLimit(versions.RootVersions(app), CONF))
    inner = healthcheck.HealthcheckRouter(inner, conductor_api, whoami)
    outer = ComputeRequestId(MalformedURL(inner), CONF)
    outer = _HTTPProxyToWSGI(outer, CONF)
    CONF.register_opts(cors.CORS_OPTS, "cors")
    if CONF.cors.allowed_origin:  # without an allowed origin CORS answers nothing
        outer = _CORS(outer, CONF)
    return outer
