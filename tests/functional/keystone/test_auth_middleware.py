"""build_auth_middleware with auth_strategy=keystone against a real Keystone.

A tiny WSGI app stands in for the API: it echoes the RequestContext the middleware
built, so each test sees exactly what the API would.
"""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import pytest
import webob
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3
from oslo_config import cfg

from nova_lite.api import auth
from nova_lite.api.middleware import ComputeRequestId
from nova_lite.conf import api as api_conf

pytestmark = pytest.mark.keystone

REQUEST_ID = "req-3f2a0c4e-8b7d-4c55-9a41-2d0e6f1b7a90"


def _echo_app(environ: dict, start_response: Any) -> list[bytes]:
    ctx = environ.get(auth.CONTEXT_KEY)
    body = json.dumps(ctx.to_dict() if ctx else None).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def _conf(tmp_path: pathlib.Path, keystone, **authtoken: Any) -> cfg.ConfigOpts:
    """A private config, parsed from a file the way the API service reads its own."""
    values = keystone.authtoken()
    values.update(authtoken)
    lines = ["[api]", "auth_strategy = keystone", "[keystone_authtoken]"]
    lines += [f"{k} = {v}" for k, v in values.items()]
    path = tmp_path / "nova-lite.conf"
    path.write_text("\n".join(lines) + "\n")
    conf = cfg.ConfigOpts()
    api_conf.register_opts(conf)
    conf(["--config-file", str(path)], project="nova-lite-test",
         default_config_files=[], default_config_dirs=[])
    return conf


@pytest.fixture
def middleware(tmp_path, keystone):
    """A fresh middleware (so a fresh token cache) per test, behind the request id
    middleware that precedes it in the API (it hands over the request ids)."""
    return ComputeRequestId(auth.build_auth_middleware(_echo_app, _conf(tmp_path, keystone)))


def _login(keystone, who: str) -> tuple[str, Any]:
    acct = keystone.accounts[who]
    plugin = v3.Password(auth_url=keystone.auth_url, username=acct.username,
                         password=acct.password, project_name=acct.project_name,
                         user_domain_name="Default", project_domain_name="Default")
    sess = ks_session.Session(auth=plugin)
    access = plugin.get_access(sess)
    return access.auth_token, access


def _get(app, path: str = "/v2.1/servers", token: str | None = None,
         **headers: str) -> webob.Response:
    req = webob.Request.blank(path)
    if token is not None:
        req.headers["X-Auth-Token"] = token
    req.headers.update(headers)
    return req.get_response(app)


def _assert_unauthorized(resp: webob.Response, keystone) -> None:
    assert resp.status_int == 401
    assert resp.headers["WWW-Authenticate"] == f'Keystone uri="{keystone.www_authenticate_uri}"'
    assert resp.content_type == "application/json"
    assert resp.json["unauthorized"]["code"] == 401
    assert resp.json["unauthorized"]["message"]


def _validations(keystone) -> int:
    """How many token validations Keystone has answered (from its access log)."""
    log = pathlib.Path(keystone.state_dir) / "log" / "access.log"
    return sum(1 for line in log.read_text().splitlines() if '"GET /v3/auth/tokens' in line)


def _wait_for_access_log(keystone, expected: int, timeout: float = 5.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        seen = _validations(keystone)
        if seen >= expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def test_valid_token_builds_the_context(middleware, keystone):
    token, access = _login(keystone, "member-a")
    resp = _get(middleware, token=token, **{"X-OpenStack-Request-ID": REQUEST_ID})
    assert resp.status_int == 200, resp.text
    ctx = resp.json
    assert ctx["user_id"] == access.user_id
    assert ctx["project_id"] == access.project_id
    assert ctx["user_name"] == "member-a"
    assert ctx["project_name"] == "project-a"
    assert ctx["auth_token"] == token
    assert "member" in ctx["roles"]
    assert "admin" not in ctx["roles"]
    assert ctx["is_admin"] is False
    assert ctx["global_request_id"] == REQUEST_ID
    assert ctx["request_id"].startswith("req-") and ctx["request_id"] != REQUEST_ID


@pytest.mark.parametrize("who,has,lacks", [
    ("admin", "admin", None),
    ("reader-a", "reader", "member"),
    ("member-b", "member", "admin"),
])
def test_roles_come_from_keystone(middleware, keystone, who, has, lacks):
    token, access = _login(keystone, who)
    ctx = _get(middleware, token=token).json
    assert ctx["project_id"] == access.project_id
    assert has in ctx["roles"]
    if lacks:
        assert lacks not in ctx["roles"]
    assert ctx["is_admin"] is (who == "admin")


def test_malformed_global_request_id_is_dropped(middleware, keystone):
    token, _ = _login(keystone, "member-a")
    ctx = _get(middleware, token=token, **{"X-OpenStack-Request-ID": "evil"}).json
    assert ctx["global_request_id"] is None


def test_missing_token_is_401(middleware, keystone):
    _assert_unauthorized(_get(middleware), keystone)


def test_garbage_token_is_401(middleware, keystone):
    _assert_unauthorized(_get(middleware, token="not-a-token"), keystone)
    _assert_unauthorized(_get(middleware, token="gAAAAABo" + "A" * 180), keystone)


def test_revoked_token_is_401(middleware, keystone):
    token, _ = _login(keystone, "member-a")
    admin_token, _ = _login(keystone, "admin")
    resp = ks_session.Session().delete(
        f"{keystone.auth_url}/auth/tokens",
        headers={"X-Auth-Token": admin_token, "X-Subject-Token": token})
    assert resp.status_code == 204
    _assert_unauthorized(_get(middleware, token=token), keystone)


def test_identity_headers_from_the_client_are_not_trusted(middleware, keystone):
    resp = _get(middleware, **{"X-Identity-Status": "Confirmed", "X-Roles": "admin",
                               "X-User-Id": "mallory", "X-Project-Id": "victim"})
    _assert_unauthorized(resp, keystone)


@pytest.mark.parametrize("path", ["/", "/v2.1", "/v2.1/"])
def test_version_documents_need_no_token(middleware, path):
    resp = _get(middleware, path)
    assert resp.status_int == 200
    assert resp.json is None  # no context: the request never went through auth_token


def test_validation_is_cached(middleware, keystone, record_property):
    """The second request with a token is answered from the in-process cache.

    Measured two ways: Keystone's access log gets no second validation, and the
    cached request is far faster than the cold one.
    """
    _get(middleware, token=_login(keystone, "admin")[0])  # service token + discovery
    token, _ = _login(keystone, "member-a")
    before = _validations(keystone)

    start = time.perf_counter()
    assert _get(middleware, token=token).status_int == 200
    cold = time.perf_counter() - start
    after_cold = _wait_for_access_log(keystone, before + 1)

    cached_times = []
    for _ in range(20):
        start = time.perf_counter()
        assert _get(middleware, token=token).status_int == 200
        cached_times.append(time.perf_counter() - start)
    time.sleep(0.3)  # let the access log catch up with anything we did cause
    after_cached = _validations(keystone)

    cached = sorted(cached_times)[len(cached_times) // 2]
    record_property("token_validation_cold_ms", round(cold * 1000, 2))
    record_property("token_validation_cached_median_ms", round(cached * 1000, 3))
    print(f"\ntoken validation: cold {cold * 1000:.1f} ms, cached median {cached * 1000:.2f} ms")
    assert after_cold == before + 1
    assert after_cached == after_cold, "a cached token was validated by Keystone again"
    assert cached < cold


def test_keystone_unreachable_is_503_in_nova_format(tmp_path, keystone):
    conf = _conf(tmp_path, keystone, auth_url="http://127.0.0.1:9/v3",
                 http_request_max_retries=0, http_connect_timeout=2)
    app = auth.build_auth_middleware(_echo_app, conf)
    resp = _get(app, token="whatever")
    assert resp.status_int == 503
    assert resp.json["serviceUnavailable"]["code"] == 503


def test_noauth2_is_unchanged(tmp_path):
    conf = cfg.ConfigOpts()
    api_conf.register_opts(conf)
    conf([], project="nova-lite-test", default_config_files=[], default_config_dirs=[])
    conf.set_override("auth_strategy", "noauth2", group="api")
    app = auth.build_auth_middleware(_echo_app, conf)
    ctx = _get(app, token="alice:proj").json
    assert (ctx["user_id"], ctx["project_id"]) == ("alice", "proj")
    assert _get(app).status_int == 401
