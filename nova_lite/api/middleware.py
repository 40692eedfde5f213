"""The compute API's WSGI pipeline around authentication, from oslo.middleware as Nova's.

Outermost first: CORS ([cors]) -> HTTPProxyToWSGI (X-Forwarded-Proto and Forwarded,
with [oslo_middleware] enable_proxy_headers_parsing) -> request id (x-openstack-request-id
and x-compute-request-id on every response; a caller's valid X-OpenStack-Request-ID
becomes the global request id) -> /healthcheck -> fault wrapper (an unexpected error is a
500 in Nova's fault format, never a traceback to the client) -> request body size limit
([oslo_middleware] max_request_body_size, 413) -> authentication -> the API.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Iterable

import webob
import webob.dec
from oslo_middleware import cors, http_proxy_to_wsgi, request_id, sizelimit

from nova_lite.api import healthcheck, wsgi
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)

class ComputeRequestId(request_id.RequestId):
    """oslo.middleware's request id, also as x-compute-request-id (Nova's old name)."""

    compat_headers = ["x-compute-request-id"]


class FaultWrapper:
    """Last line of defence: whatever escapes below becomes a 500 in Nova's fault format
    (logged with its traceback, as the bug it is), and the size limiter's plain 413
    becomes Nova's overLimit fault."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        try:
            resp = req.get_response(self.app)
        except Exception:
            LOG.exception("Unexpected error in the API middleware")
            return wsgi.fault_response(500, "Unexpected API Error. Please report this to "
                                            "the operator with the request id.")
        if resp.status_int == 413 and resp.content_type != wsgi.JSON_TYPE:
            return wsgi.fault_response(413, "Request is too large.")
        return resp


def build_pipeline(app: Callable, conductor_api: Any, whoami: Callable
                   ) -> Callable[..., Iterable[bytes]]:
    """``app``: the API with its authentication middleware; ``whoami``: the same
    authentication around healthcheck.whoami_app (who may see detailed health)."""
    inner = FaultWrapper(sizelimit.RequestBodySizeLimiter(app, CONF))
    inner = healthcheck.HealthcheckRouter(inner, conductor_api, whoami)
    outer = ComputeRequestId(inner, CONF)
    outer = http_proxy_to_wsgi.HTTPProxyToWSGI(outer, CONF)
    return cors.CORS(outer, CONF)

