"""Authentication middleware: turns a request's credentials into a RequestContext.

``keystone`` (the default) validates the X-Auth-Token with keystonemiddleware's
auth_token, configured from [keystone_authtoken], which caches validated tokens
(memcached_servers, or an in-process cache when that is empty) so most requests never
reach Keystone; the identity headers it sets become the context. ``noauth2``
(development only) trusts ``X-Auth-Token: user:project``; user ``admin`` gets the admin
role. Either way the version documents (GET /, /v2.1) need no token, because clients
discover the API version before they authenticate.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import webob
import webob.dec

from nova_lite import context as nl_context

UNAUTHENTICATED_PATHS = ("/", "/v2.1", "/v2.1/", "/v2", "/v2/")
CONTEXT_KEY = "nova_lite.context"

_FAULT_NAMES = {401: "unauthorized", 403: "forbidden", 503: "serviceUnavailable"}


def _fault(code: int, message: str, headers: list | None = None) -> webob.Response:
    name = _FAULT_NAMES.get(code, "computeFault")
    body = json.dumps({name: {"code": code, "message": message}})
    resp = webob.Response(status=code, body=body.encode(), content_type="application/json",
                          charset="UTF-8")
    for key, value in headers or []:
        resp.headers.add(key, value)
    return resp


def _unauthorized(message: str) -> webob.Response:
    return _fault(401, message)


def _request_ids(req: webob.Request) -> dict:
    """The ids oslo.middleware's request id middleware put in the environ: this
    request's, and a caller's valid X-OpenStack-Request-ID as the global one."""
    return {"request_id": req.environ.get("openstack.request_id"),
            "global_request_id": req.environ.get("openstack.global_request_id")}


class NoAuthMiddleware:
    """noauth2: the token names the user and project."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> Any:
        if req.path_info in UNAUTHENTICATED_PATHS:
            return req.get_response(self.app)
        token = req.headers.get("X-Auth-Token")
        if not token:
            return _unauthorized("Authentication required")
        user, _, project = token.partition(":")
        project = project or user
        roles = ["admin", "member", "reader"] if user == "admin" else ["member", "reader"]
        ctx = nl_context.RequestContext(
            user_id=user, project_id=project, roles=roles, auth_token=token,
            user_name=user, project_name=project, **_request_ids(req),
        )
        req.environ[CONTEXT_KEY] = ctx
        return req.get_response(self.app)


class KeystoneContext:
    """Builds the RequestContext from the headers auth_token set after validating."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> Any:
        # auth_token strips these from the incoming request and sets them only for a
        # valid token; the check guards against running without it (delay_auth_decision).
        if req.headers.get("X-Identity-Status") != "Confirmed":
            return _unauthorized("The request you have made requires authentication.")
        roles = [r.strip() for r in req.headers.get("X-Roles", "").split(",") if r.strip()]
        ctx = nl_context.RequestContext(
            user_id=req.headers.get("X-User-Id"),
            project_id=req.headers.get("X-Project-Id"),
            roles=roles,
            auth_token=req.headers.get("X-Auth-Token"),
            user_name=req.headers.get("X-User-Name"),
            project_name=req.headers.get("X-Project-Name"),
            **_request_ids(req),
        )
        req.environ[CONTEXT_KEY] = ctx
        return req.get_response(self.app)


class KeystoneAuth:
    """Routes version documents around auth_token and gives its errors Nova's fault body.

    keystonemiddleware answers a bad token with its own ``{"error": ...}`` body and an
    unreachable Keystone with a plain 503; clients of Nova expect ``{"unauthorized":
    {...}}``. Responses from the API itself (a context was built) pass untouched.
    """

    def __init__(self, app: Callable, authtoken: Callable) -> None:
        self.app = app
        self.authtoken = authtoken

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> Any:
        if req.path_info in UNAUTHENTICATED_PATHS:
            return req.get_response(self.app)
        resp = req.get_response(self.authtoken)
        if CONTEXT_KEY in req.environ or resp.status_int < 400:
            return resp
        if resp.status_int == 401:
            message = "The request you have made requires authentication."
        elif resp.status_int == 503:
            message = "The Keystone service is temporarily unavailable."
        else:
            message = resp.status
        keep = [(k, v) for k, v in resp.headerlist if k.lower() == "www-authenticate"]
        return _fault(resp.status_int, message, keep)


def build_keystone_middleware(app: Callable, conf: Any) -> Callable:
    """auth_token reading [keystone_authtoken] from ``conf``, then the context builder."""
    from keystonemiddleware import auth_token

    authtoken = auth_token.AuthProtocol(KeystoneContext(app), {"oslo_config_config": conf})
    return KeystoneAuth(app, authtoken)


def build_auth_middleware(app: Callable, conf: Any) -> Callable:
    """Wrap the API app with the configured [api] auth_strategy."""
    if conf.api.auth_strategy == "noauth2":
        return NoAuthMiddleware(app)
    return build_keystone_middleware(app, conf)
