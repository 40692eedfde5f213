"""The Glance v2 backend of the image API, over a keystoneauth1 session.

Where Glance is: ``[glance] api_servers`` (tried in turn), else ``endpoint_override``,
else the catalog's ``image`` endpoint, found with the ``[glance]`` service user. Who
asks: the user whose token the RequestContext carries (so Glance applies its own
visibility and membership rules, and an image created for a snapshot is owned by the
user's project), or the service user when there is no user (a compute host downloading
the image of a build that may have waited longer than the user's token lives).
"""

from __future__ import annotations

import itertools
import logging
from typing import Any, Iterable, Iterator, Optional

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import token_endpoint

from nova_lite import exception, keystone_session
from nova_lite.image.api import ACTIVE, BASE_KEYS, ImageAPI, ImageData

LOG = logging.getLogger(__name__)

# Keys of Glance's image document that are neither base attributes nor properties.
_NOT_PROPERTIES = frozenset({"file", "schema", "self", "tags", "locations", "direct_url",
                             "stores", "os_hidden"})
_RETRY_STATUS = (502, 503, 504)
PATCH_TYPE = "application/openstack-images-v2.1-json-patch"


def from_glance(doc: dict) -> dict:
    """Glance's flat image document as the image API's dict (see nova_lite.image.api)."""
    image = {key: doc.get(key) for key in BASE_KEYS}
    image["properties"] = {
        k: v if isinstance(v, str) else str(v) for k, v in doc.items()
        if k not in BASE_KEYS and k not in _NOT_PROPERTIES and not k.startswith("os_glance")
        and v is not None}
    return image


def _base_url(url: str) -> str:
    """An image endpoint without a trailing version (catalogs hold either form)."""
    url = url.rstrip("/")
    tail = url.rsplit("/", 1)[-1]
    if tail.startswith("v2") or tail == "v1":
        url = url[: -len(tail) - 1]
    return url


def _chunks(data: ImageData, size: int) -> Iterator[bytes]:
    if hasattr(data, "read"):
        while chunk := data.read(size):
            yield chunk
    else:
        yield from data


class GlanceImageAPI(ImageAPI):
    def __init__(self, session: Any, servers: Optional[list[str]] = None,
                 find_endpoint: Any = None, user_tokens: bool = True,
                 num_retries: int = 3, chunk_size: int = 1024 * 1024) -> None:
        """``session``: a keystoneauth1 Session authenticated as the service user.
        ``servers``: fixed Glance URLs; else ``find_endpoint()`` (the catalog) is asked
        once and again after a connection failure. ``user_tokens``: contexts carry
        Keystone tokens (auth_strategy keystone) that requests should use."""
        self.session = session
        self.servers = [_base_url(s) for s in servers or []]
        self.find_endpoint = find_endpoint
        self.user_tokens = user_tokens
        self.num_retries = num_retries
        self.chunk_size = chunk_size
        self._catalog = keystone_session.CachedEndpoint(
            lambda: self.find_endpoint(),
            lambda reason: exception.ImageServiceUnavailable(reason=reason), "image",
            _base_url)
        self._next = itertools.count()

    @classmethod
    def from_conf(cls, conf: Any) -> "GlanceImageAPI":
        g = conf.glance
        if g.verify_glance_signatures:
            raise exception.ConfigError(
                reason="[glance] verify_glance_signatures is not supported by nova-lite; "
                       "unset it (images are verified by size, md5 and sha512)")
        servers = list(g.api_servers or []) or ([g.endpoint_override]
                                                if g.endpoint_override else [])
        find = None
        if not servers:
            if not g.auth_type:
                raise exception.ConfigError(
                    reason="[glance] needs api_servers, endpoint_override or service "
                           "credentials (auth_type, auth_url, ...) to find Glance")

            def find() -> str:
                return keystone_session.get_adapter(conf, "glance").get_endpoint()
        return cls(keystone_session.get_session(conf, "glance"), servers, find,
                   user_tokens=conf.api.auth_strategy == "keystone",
                   num_retries=g.num_retries, chunk_size=g.download_chunk_size)

    # -- transport -------------------------------------------------------------------

    def _endpoint(self, start: int, attempt: int) -> str:
        """The URL for one attempt: api_servers in turn from ``start``, else the
        catalog's (looked up again after a failed attempt)."""
        if self.servers:
            return self.servers[(start + attempt) % len(self.servers)]
        return self._catalog.get(refresh=attempt > 0)

    def _auth(self, ctx: Any) -> Any:
        token = getattr(ctx, "auth_token", None) if ctx is not None else None
        if token and self.user_tokens:
            return token_endpoint.Token(None, token)
        return None  # the session's own (service user) auth

    def _request(self, ctx: Any, method: str, path: str, retry: bool = True,
                 **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        rid = getattr(ctx, "global_request_id", None) or getattr(ctx, "request_id", None)
        attempts = self.num_retries + 1 if retry else 1
        start = next(self._next)
        last: Any = None
        for attempt in range(attempts):
            url = self._endpoint(start, attempt) + "/v2" + path
            try:
                resp = self.session.request(url, method, auth=self._auth(ctx),
                                            raise_exc=False, headers=headers,
                                            global_request_id=rid, **kwargs)
            except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout,
                    ks_exc.UnknownConnectionError) as err:
                last = err
                LOG.warning("image service at %s unreachable (attempt %d of %d): %s",
                            url, attempt + 1, attempts, err)
                continue
            if resp.status_code in _RETRY_STATUS and attempt + 1 < attempts:
                last = f"HTTP {resp.status_code}"
                LOG.warning("image service at %s answered %s (attempt %d of %d)", url,
                            resp.status_code, attempt + 1, attempts)
                continue
            return resp
        raise exception.ImageServiceUnavailable(reason=str(last))

    @staticmethod
    def _error(resp: Any, image_id: Optional[str]) -> exception.NovaLiteException:
        detail = (resp.text or "").strip().replace("\n", " ")[:300]
        if resp.status_code == 404:
            return exception.ImageNotFound(image_id=image_id)
        if resp.status_code in (401, 403):
            if image_id is None:
                return exception.Forbidden(f"The image service refused: {detail}")
            return exception.ImageNotAuthorized(image_id=image_id)
        if resp.status_code == 409:
            return exception.Conflict(f"Image {image_id}: {detail}")
        if resp.status_code in (400, 413, 415):
            return exception.Invalid(f"The image service rejected the request: {detail}")
        if resp.status_code >= 500:
            return exception.ImageServiceUnavailable(reason=f"HTTP {resp.status_code}")
        return exception.NovaLiteException(
            f"Unexpected answer {resp.status_code} from the image service: {detail}")

    def _json(self, ctx: Any, method: str, path: str, image_id: Optional[str] = None,
              ok: tuple = (200,), **kwargs: Any) -> Any:
        resp = self._request(ctx, method, path, **kwargs)
        if resp.status_code not in ok:
            raise self._error(resp, image_id)
        return resp.json() if resp.content else None

    # -- the image API ---------------------------------------------------------------

    def list(self, ctx: Any, filters: Optional[dict] = None) -> list[dict]:
        params = {"limit": "1000", "sort": "created_at:asc,id:asc"}
        for key, value in (filters or {}).items():
            params[key] = str(value)
        images: list[dict] = []
        path = "/images"
        while True:
            doc = self._json(ctx, "GET", path, params=params)
            images.extend(from_glance(i) for i in doc.get("images", []))
            nxt = doc.get("next")
            if not nxt or not doc.get("images"):
                return images
            # "next" is /v2/images?marker=...&... : keep our params, take its marker.
            from urllib.parse import parse_qs, urlparse

            marker = parse_qs(urlparse(nxt).query).get("marker")
            if not marker:
                return images
            params["marker"] = marker[0]

    def show(self, ctx: Any, image_id: str) -> dict:
        return from_glance(self._json(ctx, "GET", f"/images/{image_id}", image_id))

    def open(self, ctx: Any, image_id: str) -> Iterator[bytes]:
        resp = self._request(ctx, "GET", f"/images/{image_id}/file", stream=True)
        if resp.status_code == 204:
            raise exception.ImageUnacceptable(image_id=image_id, reason="it has no data")
        if resp.status_code != 200:
            raise self._error(resp, image_id)
        return self._stream(resp, image_id)

    def _stream(self, resp: Any, image_id: str) -> Iterator[bytes]:
        try:
            yield from resp.iter_content(self.chunk_size)
        except Exception as err:  # requests' ChunkedEncodingError, ConnectionError, ...
            raise exception.ImageServiceUnavailable(
                reason=f"download of {image_id} was cut: {err}") from err
        finally:
            resp.close()

    def create(self, ctx: Any, meta: dict) -> dict:
        body: dict[str, Any] = {k: meta[k] for k in (
            "name", "disk_format", "container_format", "visibility", "protected")
            if meta.get(k) is not None}
        for key in ("min_disk", "min_ram"):
            if meta.get(key) is not None:
                body[key] = int(meta[key])
        for key, value in (meta.get("properties") or {}).items():
            if key not in body and value is not None:
                body[key] = str(value)
        return from_glance(self._json(ctx, "POST", "/images", ok=(201,), json=body))

    def upload(self, ctx: Any, image_id: str, data: ImageData,
               disk_format: Optional[str] = None,
               container_format: Optional[str] = None) -> dict:
        formats = {k: v for k, v in (("disk_format", disk_format),
                                     ("container_format", container_format)) if v}
        if formats:
            ops = [{"op": "replace", "path": f"/{k}", "value": v} for k, v in formats.items()]
            self._json(ctx, "PATCH", f"/images/{image_id}", image_id, json=ops,
                       headers={"Content-Type": PATCH_TYPE})
        resp = self._request(ctx, "PUT", f"/images/{image_id}/file", retry=False,
                             data=_chunks(data, self.chunk_size),
                             headers={"Content-Type": "application/octet-stream"})
        if resp.status_code not in (200, 201, 204):
            raise self._error(resp, image_id)
        image = self.show(ctx, image_id)
        if image.get("status") != ACTIVE:
            raise exception.ImageServiceUnavailable(
                reason=f"image {image_id} is {image.get('status')} after its upload")
        return image

    def update(self, ctx: Any, image_id: str, properties: Optional[dict] = None,
               remove: Iterable[str] = ()) -> dict:
        current = self.show(ctx, image_id)["properties"]
        ops = [{"op": "remove", "path": f"/{key}"} for key in remove if key in current]
        for key, value in (properties or {}).items():
            ops.append({"op": "replace" if key in current else "add", "path": f"/{key}",
                        "value": str(value)})
        if not ops:
            return self.show(ctx, image_id)
        return from_glance(self._json(ctx, "PATCH", f"/images/{image_id}", image_id,
                                      json=ops, headers={"Content-Type": PATCH_TYPE}))

    def delete(self, ctx: Any, image_id: str) -> None:
        resp = self._request(ctx, "DELETE", f"/images/{image_id}")
        if resp.status_code == 403 and "protected" in (resp.text or "").lower():
            raise exception.Forbidden(f"Image {image_id} is protected and cannot be "
                                      "deleted.")
        if resp.status_code not in (200, 204):
            raise self._error(resp, image_id)
