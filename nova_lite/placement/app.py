"""The Placement API WSGI application: routing, microversions and Placement's errors.

Pipeline, outermost first: request id -> PlacementErrors (any error body that is not
Placement's, e.g. from the authentication middleware, is rewritten into it) ->
authentication ([api] auth_strategy, as nova-lite-api's; GET / needs no token) ->
PlacementApp.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Iterable, Optional

import oslo_messaging as messaging
import routes
import webob
import webob.dec
from oslo_middleware import request_id

from nova_lite import exception, rpc
from nova_lite import context as nl_context
from nova_lite.api import auth
from nova_lite.placement import microversion
from nova_lite.placement import wsgi
from nova_lite.placement.handlers import (aggregates, allocation_candidates, allocations,
                                          inventories, resource_classes,
                                          resource_providers, root, traits, usages)

LOG = logging.getLogger(__name__)
CONTEXT_KEY = auth.CONTEXT_KEY
SEND_RETRIES = 2
RP = "/resource_providers/{uuid}"

# (path, since microversion, {method: handler})
ROUTES: tuple[tuple[str, tuple[int, int], dict[str, Callable]], ...] = (
    ("/resource_providers", (1, 0), {"GET": resource_providers.index}),
    (RP, (1, 0), {"GET": resource_providers.show}),
    (RP + "/inventories", (1, 0), {"GET": inventories.index, "PUT": inventories.update_all,
                                   "DELETE": inventories.delete_all}),
    (RP + "/inventories/{resource_class}", (1, 0), {
        "GET": inventories.show, "PUT": inventories.update, "DELETE": inventories.delete}),
    (RP + "/usages", (1, 0), {"GET": usages.provider}),
    (RP + "/aggregates", (1, 1), {"GET": aggregates.index, "PUT": aggregates.update}),
    (RP + "/traits", (1, 6), {"GET": traits.provider_index, "PUT": traits.provider_update,
                              "DELETE": traits.provider_delete}),
    (RP + "/allocations", (1, 0), {"GET": allocations.provider}),
    ("/allocations/{consumer_uuid}", (1, 0), {
        "GET": allocations.show, "PUT": allocations.update, "DELETE": allocations.delete}),
    ("/usages", (1, 9), {"GET": usages.project}),
    ("/traits", (1, 6), {"GET": traits.index}),
    ("/traits/{name}", (1, 6), {"GET": traits.show, "PUT": traits.update,
                                "DELETE": traits.delete}),
    ("/resource_classes", (1, 2), {"GET": resource_classes.index}),
    ("/resource_classes/{name}", (1, 2), {"GET": resource_classes.show}),
    ("/allocation_candidates", (1, 10), {"GET": allocation_candidates.index}),
)
# DELETE of all inventories came with 1.5.
_SINCE = {(RP + "/inventories", "DELETE"): (1, 5)}


class PlacementApp:
    def __init__(self, conductor: Any) -> None:
        self.conductor = conductor
        self.mapper = routes.Mapper()
        for n, (path, _since, _methods) in enumerate(ROUTES):
            self.mapper.connect(path, _route=n)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        req = webob.Request(environ)
        start = time.monotonic()
        ctx = environ.get(CONTEXT_KEY)
        if ctx is not None:
            ctx.update_store()
        try:
            resp = self.handle(req)
            LOG.info("%s %s status: %s len: %s microversion: %s time: %.4f", req.method,
                     req.path_qs, resp.status_int, resp.content_length,
                     resp.headers.get(microversion.HEADER, "-"), time.monotonic() - start)
        finally:
            nl_context.clear_current()
        return resp(environ, start_response)

    def handle(self, req: webob.Request) -> webob.Response:
        rid = req.environ.get("openstack.request_id")
        try:
            ver = microversion.negotiate(req.headers)
        except microversion.VersionError as e:
            extra = {"max_version": str(microversion.MAX_VERSION),
                     "min_version": str(microversion.MIN_VERSION)} if e.code == 406 else {}
            return wsgi.error_response(e.code, e.message, rid, None, extra=extra)
        if req.path_info in ("", "/"):
            if req.method not in ("GET", "HEAD"):
                resp = wsgi.error_response(405, "The method specified is not allowed for "
                                                "this resource.", rid, ver,
                                           headers=[("Allow", "GET")])
            else:
                resp = wsgi.reply_response(wsgi.Reply(200, root.versions()))
        else:
            resp = self._dispatch(req, ver, rid)
        for k, v in microversion.response_headers(ver):
            resp.headers[k] = v
        return resp

    def _dispatch(self, req: webob.Request, ver: microversion.Version,
                  rid: Optional[str]) -> webob.Response:
        ctx = req.environ.get(CONTEXT_KEY)
        try:
            if ctx is None:
                raise wsgi.HTTPError(401, "Authentication required")
            match = self.mapper.match(req.path_info)
            if match is None:
                raise wsgi.not_found()
            path, since, methods = ROUTES[int(match.pop("_route"))]
            if ver < since:
                raise wsgi.not_found()
            handler = methods.get(req.method)
            if handler is None or ver < _SINCE.get((path, req.method), (1, 0)):
                allowed = [m for m in methods if ver >= _SINCE.get((path, m), (1, 0))]
                raise wsgi.HTTPError(405, "The method specified is not allowed for this "
                                          "resource.", headers=[("Allow", ", ".join(
                                              sorted(allowed)))])
            preq = wsgi.PlacementRequest(req, ctx, ver, self.conductor)
            return wsgi.reply_response(handler(preq, **match))
        except wsgi.HTTPError as e:
            return wsgi.error_response(e.status, e.detail, rid, ver, e.code, e.headers,
                                       e.extra)
        except exception.NovaLiteException as e:
            code = e.code if isinstance(e.code, int) and 400 <= e.code < 600 else 500
            if code >= 500:
                LOG.error("%s %s failed: %s", req.method, req.path, e.format_message())
            return wsgi.error_response(
                code, e.format_message(), rid, ver,
                getattr(e, "placement_code", wsgi.UNDEFINED_CODE))
        except rpc.BUS_UNREACHABLE:
            LOG.warning("%s %s: the message bus is unreachable", req.method, req.path)
            return wsgi.error_response(503, "The message bus is unreachable; the request "
                                            "was not carried out. Retry shortly.", rid, ver)
        except messaging.MessagingTimeout:
            LOG.error("%s %s: timed out waiting for the conductor", req.method, req.path)
            return wsgi.error_response(503, "The request timed out waiting for the "
                                            "conductor; it may still complete.", rid, ver)
        except Exception as e:  # a 500 is a bug: log it whole
            LOG.exception("Unexpected error serving %s %s", req.method, req.path)
            return wsgi.error_response(500, f"Unexpected error: {type(e).__name__}",
                                       rid, ver)


class PlacementErrors:
    """Error responses from outside the app (authentication, the request id layer) in
    Placement's body, so clients that read ``errors[0].detail`` always find it."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> Any:
        resp = req.get_response(self.app)
        if resp.status_int < 400:
            return resp
        try:
            body = json.loads(resp.body or b"{}")
        except ValueError:
            body = {}
        if isinstance(body, dict) and "errors" in body:
            return resp
        detail = resp.status
        if isinstance(body, dict) and len(body) == 1:
            inner = next(iter(body.values()))
            if isinstance(inner, dict) and inner.get("message"):
                detail = inner["message"]
        keep = [(k, v) for k, v in resp.headerlist if k.lower() == "www-authenticate"]
        return wsgi.error_response(resp.status_int, detail,
                                   req.environ.get("openstack.request_id"), None,
                                   headers=keep)


def build_app(conf: Any, conductor: Any = None) -> Callable:
    """The complete Placement WSGI callable; the conductor client made when not given."""
    if conductor is None:
        from nova_lite.placement import rpcapi

        conductor = rpcapi.PlacementConductorAPI(send_retries=SEND_RETRIES)
    app: Callable = auth.build_auth_middleware(PlacementApp(conductor), conf)
    return request_id.RequestId(PlacementErrors(app))
