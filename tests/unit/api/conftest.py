"""Fixtures for API tests: the real app over a fake conductor and a temporary image store."""

from __future__ import annotations

import json
import types
from typing import Any, Optional

import pytest
import webob

from nova_lite.api import app as api_app
from nova_lite.image.local import LocalImageStore
from tests.unit.api.fake_conductor import FakeConductor

ADMIN = "admin:admin"
ALICE = "alice:proj-a"
BOB = "bob:proj-b"


class Client:
    """Drives the WSGI app in-process, the way a real client would over HTTP."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def request(self, method: str, path: str, body: Any = None, token: Optional[str] = ADMIN,
                version: Optional[str] = None, headers: Optional[dict] = None,
                raw: Optional[bytes] = None) -> webob.Response:
        req = webob.Request.blank(path, method=method)
        if token:
            req.headers["X-Auth-Token"] = token
        if version:
            req.headers["OpenStack-API-Version"] = f"compute {version}"
        for k, v in (headers or {}).items():
            req.headers[k] = v
        if raw is not None:
            req.body = raw
            req.content_type = "application/json"
        elif body is not None:
            req.body = json.dumps(body).encode()
            req.content_type = "application/json"
        resp = req.get_response(self.app)
        assert resp.status_int < 500, resp.text
        assert resp.headers.get("x-openstack-request-id", "").startswith("req-")
        return resp

    def get(self, path: str, **kw: Any) -> webob.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> webob.Response:
        return self.request("POST", path, body=body, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> webob.Response:
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path: str, **kw: Any) -> webob.Response:
        return self.request("DELETE", path, **kw)


@pytest.fixture
def conf() -> Any:
    return types.SimpleNamespace(api=types.SimpleNamespace(
        auth_strategy="noauth2", max_limit=1000, list_records_by_skipping_down_cells=True),
                                 default_availability_zone="nova",
                                 default_schedule_zone=None,
                                 internal_service_availability_zone="internal",
                                 max_local_block_devices=3)


@pytest.fixture
def conductor() -> FakeConductor:
    return FakeConductor()


@pytest.fixture
def images(tmp_path: Any) -> LocalImageStore:
    store = LocalImageStore(str(tmp_path / "images"))
    src = tmp_path / "cirros.img"
    src.write_bytes(b"x" * 4096)
    store.import_file(None, str(src), {"name": "cirros", "disk_format": "raw",
                                       "container_format": "bare", "visibility": "public",
                                       "properties": {"os_distro": "cirros"}})
    return store


@pytest.fixture
def image_id(images: LocalImageStore) -> str:
    return images.list(None)[0]["id"]


@pytest.fixture
def client(conf: Any, conductor: FakeConductor, images: LocalImageStore) -> Client:
    return Client(api_app.build_app(conf, conductor_api=conductor, image_api=images))
