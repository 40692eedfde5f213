"""A fake keystoneauth1 session that answers like a small Glance v2.

It keeps images in memory, applies Glance's visibility rule (private images are seen by
their owner's project and admins), records every request and can be told to fail:
``down`` (URLs whose connection fails), ``status_once`` (answer a status once) and
``corrupt`` (serve bytes that differ from the image's checksums).
"""

from __future__ import annotations

import hashlib
import json as jsonlib
import uuid
from typing import Any, Iterator, Optional
from urllib.parse import urlparse

from keystoneauth1 import exceptions as ks_exc

SERVICE_TOKEN = "service-token"
# token -> (project, is_admin)
TOKENS = {SERVICE_TOKEN: ("service", True), "tok-a": ("proj-a", False),
          "tok-b": ("proj-b", False)}


class FakeResponse:
    def __init__(self, status: int, body: Any = None, data: bytes = b"",
                 chunks: Optional[Iterator[bytes]] = None) -> None:
        self.status_code = status
        self._chunks = chunks
        if body is not None:
            data = jsonlib.dumps(body).encode()
        self.content = data
        self.text = data.decode(errors="replace")
        self.closed = False

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    def iter_content(self, size: int) -> Iterator[bytes]:
        if self._chunks is not None:
            yield from self._chunks
            return
        for i in range(0, len(self.content), size):
            yield self.content[i:i + size]

    def close(self) -> None:
        self.closed = True


class FakeGlanceSession:
    """Stands in for keystoneauth1.session.Session (``request`` only)."""

    def __init__(self) -> None:
        self.images: dict[str, dict] = {}
        self.data: dict[str, bytes] = {}
        self.requests: list[dict] = []
        self.down: set[str] = set()
        self.status_once: list[int] = []
        self.corrupt: set[str] = set()
        self.cut_upload_after: Optional[int] = None
        self.saw_saving = False

    # -- helpers for tests -------------------------------------------------------------
    def add(self, data: bytes, owner: str = "proj-a", visibility: str = "private",
            **extra: Any) -> str:
        image_id = str(uuid.uuid4())
        self.images[image_id] = {
            "id": image_id, "name": extra.pop("name", f"img-{image_id[:4]}"),
            "status": "active", "disk_format": "raw", "container_format": "bare",
            "size": len(data), "virtual_size": len(data),
            "checksum": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "os_hash_algo": "sha512", "os_hash_value": hashlib.sha512(data).hexdigest(),
            "min_disk": 0, "min_ram": 0, "visibility": visibility, "owner": owner,
            "protected": False, "created_at": f"2024-01-01T00:00:{len(self.images):02d}Z",
            "updated_at": "2024-01-01T00:00:00Z", "tags": [], "os_hidden": False,
            "file": f"/v2/images/{image_id}/file", "self": f"/v2/images/{image_id}",
            "schema": "/v2/schemas/image", **extra}
        self.data[image_id] = data
        return image_id

    # -- the session -------------------------------------------------------------------
    def request(self, url: str, method: str, auth: Any = None, raise_exc: bool = True,
                headers: Optional[dict] = None, global_request_id: Optional[str] = None,
                json: Any = None, params: Optional[dict] = None, data: Any = None,
                stream: bool = False) -> FakeResponse:
        assert raise_exc is False
        token = auth.get_token(self) if auth is not None else SERVICE_TOKEN
        parsed = urlparse(url)
        base = f"{parsed.scheme}://{parsed.netloc}"
        self.requests.append({"url": url, "method": method, "token": token,
                              "headers": dict(headers or {}), "json": json,
                              "params": dict(params or {}), "stream": stream,
                              "request_id": global_request_id})
        if base in self.down:
            raise ks_exc.ConnectFailure(f"connection to {base} refused")
        if self.status_once:
            return FakeResponse(self.status_once.pop(0), data=b"busy")
        if token not in TOKENS:
            return FakeResponse(401, data=b"unauthorized")
        project, admin = TOKENS[token]
        assert parsed.path.startswith("/v2/"), url
        parts = parsed.path[len("/v2/"):].split("/")
        if parts == ["images"] and method == "GET":
            return self._list(project, admin, params or {})
        if parts == ["images"] and method == "POST":
            return self._create(project, json)
        image = self.images.get(parts[1]) if len(parts) > 1 else None
        if image is None or not (admin or image["visibility"] in ("public", "community")
                                 or image["owner"] == project):
            return FakeResponse(404, data=b"no such image")
        if len(parts) == 2:
            if method == "GET":
                return FakeResponse(200, image)
            if method == "DELETE":
                if image["protected"]:
                    return FakeResponse(403, data=b"Image is protected")
                del self.images[image["id"]]
                self.data.pop(image["id"], None)
                return FakeResponse(204)
            if method == "PATCH":
                assert headers["Content-Type"] == \
                    "application/openstack-images-v2.1-json-patch"
                for op in json:
                    key = op["path"].lstrip("/")
                    if op["op"] == "remove":
                        image.pop(key)
                    else:
                        assert (op["op"] == "replace") == (key in image), op
                        image[key] = op["value"]
                return FakeResponse(200, image)
        if parts[2:] == ["file"] and method == "GET":
            payload = self.data.get(image["id"])
            if payload is None:
                return FakeResponse(204)
            if image["id"] in self.corrupt:
                payload = payload[:-1] + bytes([payload[-1] ^ 1])
            return FakeResponse(200, data=payload)
        if parts[2:] == ["file"] and method == "PUT":
            return self._upload(image, data)
        return FakeResponse(405)

    def _list(self, project: str, admin: bool, params: dict) -> FakeResponse:
        visible = [i for i in sorted(self.images.values(), key=lambda i: i["created_at"])
                   if admin or i["visibility"] == "public" or i["owner"] == project]
        for key in ("name", "status"):
            if key in params:
                visible = [i for i in visible if i[key] == params[key]]
        if "marker" in params:
            ids = [i["id"] for i in visible]
            visible = visible[ids.index(params["marker"]) + 1:]
        limit = int(params.get("limit", 25))
        page = visible[:limit]
        body: dict = {"images": page, "first": "/v2/images", "schema": "/v2/schemas/images"}
        if len(visible) > limit:
            body["next"] = f"/v2/images?marker={page[-1]['id']}&limit={limit}"
        return FakeResponse(200, body)

    def _create(self, project: str, body: dict) -> FakeResponse:
        image_id = str(uuid.uuid4())
        doc = {"id": image_id, "status": "queued", "size": None, "virtual_size": None,
               "checksum": None, "os_hash_algo": None, "os_hash_value": None,
               "min_disk": 0, "min_ram": 0, "visibility": "shared", "owner": project,
               "protected": False, "created_at": "2024-02-01T00:00:00Z",
               "updated_at": "2024-02-01T00:00:00Z", "tags": [], "os_hidden": False,
               "disk_format": None, "container_format": None, "name": None, **body}
        self.images[image_id] = doc
        return FakeResponse(201, doc)

    def _upload(self, image: dict, data: Any) -> FakeResponse:
        if image["status"] != "queued":
            return FakeResponse(409, data=b"image is not queued")
        image["status"] = "saving"
        received = b""
        try:
            for n, chunk in enumerate(data):
                self.saw_saving = self.saw_saving or image["status"] == "saving"
                if self.cut_upload_after is not None and n >= self.cut_upload_after:
                    raise ks_exc.ConnectFailure("connection reset during upload")
                received += chunk
        except BaseException:
            image["status"] = "queued"
            raise
        self.data[image["id"]] = received
        image.update(status="active", size=len(received),
                     checksum=hashlib.md5(received, usedforsecurity=False).hexdigest(),
                     os_hash_algo="sha512",
                     os_hash_value=hashlib.sha512(received).hexdigest())
        return FakeResponse(204)
