"""The metadata service's WSGI application.

Requests arrive through Neutron's metadata proxy, which names the instance in
``X-Instance-ID`` and its project in ``X-Tenant-ID`` and signs the instance id with
the secret both sides share (``X-Instance-ID-Signature``, HMAC-SHA256 hex). The service
holds no database credentials: it asks the conductor for an instance's data and keeps
the answer ``[api] metadata_cache_expiration`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from typing import Any, Callable, Iterable, Optional

import oslo_messaging as messaging
import webob

from nova_lite import context as nl_context
from nova_lite import exception
from nova_lite.api.metadata import base

LOG = logging.getLogger(__name__)

MAX_PASSWORD_BYTES = 256
_CACHE_MAX = 10000


def sign(secret: str, instance_id: str) -> str:
    """What Neutron's proxy sends as X-Instance-ID-Signature."""
    return hmac.new(secret.encode(), instance_id.encode(), hashlib.sha256).hexdigest()


def _text(code: int, message: str) -> webob.Response:
    return webob.Response(status=code, body=message.encode(), content_type="text/plain",
                          charset="UTF-8")


class MetadataCache:
    """InstanceMetadata per instance uuid, each kept ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, base.InstanceMetadata]] = {}

    def get(self, uuid: str) -> Optional[base.InstanceMetadata]:
        if self.ttl <= 0:
            return None
        with self._lock:
            item = self._items.get(uuid)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def put(self, uuid: str, md: base.InstanceMetadata) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._items) >= _CACHE_MAX:
                self._items = {k: v for k, v in self._items.items() if v[0] >= now}
                if len(self._items) >= _CACHE_MAX:
                    self._items.clear()
            self._items[uuid] = (now + self.ttl, md)

    def forget(self, uuid: str) -> None:
        with self._lock:
            self._items.pop(uuid, None)


class MetadataApp:
    """Serves the OpenStack (/openstack/...) and EC2 (/<version>/meta-data/...) trees."""

    def __init__(self, conf: Any, conductor: Any) -> None:
        self.conf = conf
        self.conductor = conductor
        self.cache = MetadataCache(conf.api.metadata_cache_expiration)
        self.vendordata = load_vendordata(conf.api.vendordata_jsonfile_path)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        req = webob.Request(environ)
        start = time.monotonic()
        ctx = nl_context.get_admin_context()
        ctx.update_store()
        try:
            resp = self.handle(req, ctx)
        except exception.InstanceNotFound:
            resp = _text(404, "The resource could not be found.")
        except messaging.MessagingTimeout:
            LOG.exception("%s %s: timed out waiting for the conductor", req.method, req.path)
            resp = _text(500, "Timed out reading the instance's metadata; try again.")
        except Exception:  # a 500 is a bug: log it whole
            LOG.exception("Unexpected error serving metadata %s %s", req.method, req.path)
            resp = _text(500, "An unknown error has occurred. Please try your request "
                              "again.")
        finally:
            nl_context.clear_current()
        resp.headers["x-openstack-request-id"] = ctx.request_id
        LOG.info("%s %s instance: %s status: %s len: %s time: %.4f", req.method, req.path,
                 req.headers.get("X-Instance-ID", "-"), resp.status_int,
                 resp.content_length, time.monotonic() - start)
        return resp(environ, start_response)

    def handle(self, req: webob.Request, ctx: Any) -> webob.Response:
        if req.method not in ("GET", "HEAD", "POST"):
            return _text(405, "The method is not allowed for this resource.")
        path = req.path_info
        if path in ("", "/") and "X-Instance-ID" not in req.headers:
            # The version list is the same for everybody (health checks use it).
            return _respond(req, list(base.EC2_VERSIONS) + ["latest"])
        instance_id, error = self._identify(req)
        if error is not None:
            return error
        md = self._metadata(ctx, instance_id, req.headers["X-Tenant-ID"])
        if md is None:
            return _text(404, "The resource could not be found.")
        parts = [p for p in path.strip("/").split("/") if p]
        if len(parts) == 3 and parts[0] == "openstack" and parts[2] == base.PASS_NAME \
                and req.method == "POST":
            return self._set_password(req, ctx, md)
        if req.method == "POST":
            return _text(405, "The method is not allowed for this resource.")
        try:
            value = md.lookup(path)
        except base.NotFound:
            return _text(404, "The resource could not be found.")
        return _respond(req, value)

    def _identify(self, req: webob.Request) -> tuple[str, Optional[webob.Response]]:
        """The instance id from Neutron's proxy headers; a 400/403 response otherwise."""
        instance_id = req.headers.get("X-Instance-ID")
        signature = req.headers.get("X-Instance-ID-Signature")
        tenant_id = req.headers.get("X-Tenant-ID")
        remote = req.headers.get("X-Forwarded-For", req.remote_addr)
        missing = next((name for name, v in (("X-Instance-ID", instance_id),
                                             ("X-Instance-ID-Signature", signature),
                                             ("X-Tenant-ID", tenant_id)) if not v), None)
        if missing:
            return "", _text(400, f"{missing} header is missing from request.")
        if "," in instance_id:
            return "", _text(400, "Multiple X-Instance-ID headers found within request.")
        secret = self.conf.neutron.metadata_proxy_shared_secret
        if not secret:
            LOG.error("[neutron] metadata_proxy_shared_secret is not set: refusing the "
                      "metadata request for %s from %s", instance_id, remote)
            return "", _text(403, "Access denied.")
        if not hmac.compare_digest(sign(secret, instance_id), signature):
            LOG.warning("X-Instance-ID-Signature %s from %s does not match the expected "
                        "value for instance %s", signature, remote, instance_id)
            return "", _text(403, "Invalid proxy request signature.")
        return instance_id, None

    def _metadata(self, ctx: Any, instance_id: str, tenant_id: str
                  ) -> Optional[base.InstanceMetadata]:
        md = self.cache.get(instance_id)
        if md is None:
            source = self.conductor.instance_metadata(ctx, instance_id)
            md = base.InstanceMetadata(source, self.conf.api.dhcp_domain, self.vendordata)
            self.cache.put(instance_id, md)
        if md.project_id != tenant_id:
            LOG.warning("X-Tenant-ID %s does not match the project of instance %s",
                        tenant_id, instance_id)
            return None
        return md

    def _set_password(self, req: webob.Request, ctx: Any, md: base.InstanceMetadata
                      ) -> webob.Response:
        body = req.body
        if len(body) > MAX_PASSWORD_BYTES:
            return _text(400, "Request is too large.")
        try:
            password = body.decode()
        except UnicodeDecodeError:
            return _text(400, "The password must be text.")
        try:
            self.conductor.instance_password_set(ctx, md.uuid, password, only_if_empty=True)
        except exception.Conflict:
            return _text(409, "Password already set; clear it first.")
        finally:
            self.cache.forget(md.uuid)
        return _text(200, "")


def _respond(req: webob.Request, value: Any) -> webob.Response:
    body, content_type = base.render(value)
    resp = webob.Response(status=200, content_type=content_type)
    if content_type.startswith("text/") or content_type == "application/json":
        resp.charset = "UTF-8"
    resp.body = b"" if req.method == "HEAD" else body
    if req.method == "HEAD":
        resp.content_length = len(body)
    return resp


def load_vendordata(path: Optional[str]) -> dict:
    if not path:
        return {}
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as err:
        raise exception.ConfigError(
            reason=f"[api] vendordata_jsonfile_path {path}: {err}") from err
    if not isinstance(data, dict):
        raise exception.ConfigError(
            reason=f"[api] vendordata_jsonfile_path {path} must hold a JSON object")
    return data
