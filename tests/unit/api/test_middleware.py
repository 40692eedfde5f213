"""The API's oslo.middleware pipeline: request ids, /healthcheck, CORS, proxy headers and
the request body size limit."""

from __future__ import annotations

import io
import json

import oslo_messaging as messaging
import pytest
import webob

from nova_lite.api import app as api_app
from nova_lite.conf import CONF
from tests.unit.api.conftest import ADMIN, ALICE

GLOBAL_ID = "req-6c1f0e2a-4b3d-4e5f-8a9b-0c1d2e3f4a5b"


def _get(app, path, token=None, **headers):
    req = webob.Request.blank(path)
    if token:
        req.headers["X-Auth-Token"] = token
    req.headers.update(headers)
    return req.get_response(app)


def test_every_response_carries_one_request_id_in_both_headers(client, conductor):
    seen = {}
    real = conductor.flavor_list

    def spy(ctx, *a, **kw):
        seen["ctx"] = ctx
        return real(ctx, *a, **kw)

    conductor.flavor_list = spy
    resp = _get(client.app, "/v2.1/flavors", ADMIN, **{"X-OpenStack-Request-ID": GLOBAL_ID})
    rid = resp.headers["x-openstack-request-id"]
    assert rid.startswith("req-") and resp.headers["x-compute-request-id"] == rid
    assert seen["ctx"].request_id == rid and seen["ctx"].global_request_id == GLOBAL_ID
    unauthenticated = _get(client.app, "/v2.1/servers")
    assert unauthenticated.status_int == 401
    assert unauthenticated.headers["x-openstack-request-id"].startswith("req-")
    bogus = _get(client.app, "/v2.1/flavors", ADMIN, **{"X-OpenStack-Request-ID": "mine"})
    assert bogus.status_int == 200  # a malformed global id is ignored, as Nova does


def test_healthcheck_needs_no_token_and_details_are_for_admins(client):
    plain = _get(client.app, "/healthcheck")
    assert plain.status_int == 200 and plain.text == "OK"
    as_json = _get(client.app, "/healthcheck", ALICE, Accept="application/json")
    assert as_json.json == {"detailed": False, "reasons": ["OK"]}
    detailed = _get(client.app, "/healthcheck", ADMIN, Accept="application/json")
    body = detailed.json
    assert detailed.status_int == 200 and body["detailed"] is True
    [check] = body["reasons"]
    assert check["class"] == "HealthcheckResult" and "conductor answered" in check["details"]
    assert body["threads"]


@pytest.mark.parametrize("error,reason", [
    (messaging.MessagingTimeout("no reply"), "nova-lite-conductor did not answer"),
    (messaging.MessageDeliveryFailure("refused"), "message bus unreachable"),
])
def test_healthcheck_is_503_without_a_conductor(client, conductor, error, reason):
    def down(ctx, timeout):
        raise error

    conductor.ping = down
    resp = _get(client.app, "/healthcheck", Accept="application/json")
    assert resp.status_int == 503 and resp.json["reasons"] == [reason]


def test_cors_preflight_for_a_configured_origin(conf, conductor, images):
    api_app.build_app(conf, conductor_api=conductor, image_api=images)  # registers [cors]
    CONF.set_override("allowed_origin", ["https://dashboard.example"], group="cors")
    try:
        app = api_app.build_app(conf, conductor_api=conductor, image_api=images)
        req = webob.Request.blank("/v2.1/servers", method="OPTIONS")
        req.headers.update({"Origin": "https://dashboard.example",
                            "Access-Control-Request-Method": "POST",
                            "Access-Control-Request-Headers": "X-Auth-Token"})
        resp = req.get_response(app)
    finally:
        CONF.clear_override("allowed_origin", group="cors")
    assert resp.headers["Access-Control-Allow-Origin"] == "https://dashboard.example"
    assert "X-Auth-Token" in resp.headers["Access-Control-Allow-Headers"]


def test_proxy_headers_make_https_links(conf, conductor, images):
    api_app.build_app(conf, conductor_api=conductor, image_api=images)
    CONF.set_override("enable_proxy_headers_parsing", True, group="oslo_middleware")
    try:
        app = api_app.build_app(conf, conductor_api=conductor, image_api=images)
        resp = _get(app, "/v2.1", **{"X-Forwarded-Proto": "https"})
    finally:
        CONF.clear_override("enable_proxy_headers_parsing", group="oslo_middleware")
    assert resp.json["version"]["links"][0]["href"].startswith("https://")


def test_oversized_body_is_413_in_novas_format(client):
    body = json.dumps({"server": {"name": "x" * 200_000}}).encode()
    req = webob.Request.blank("/v2.1/servers", method="POST", body=body)
    req.headers.update({"X-Auth-Token": ADMIN, "Content-Type": "application/json"})
    resp = req.get_response(client.app)
    assert resp.status_int == 413 and resp.json["overLimit"]["code"] == 413
    chunked = webob.Request.blank("/v2.1/servers", method="POST")
    chunked.headers.update({"X-Auth-Token": ADMIN, "Content-Type": "application/json",
                            "Transfer-Encoding": "chunked"})
    chunked.body_file = io.BytesIO(body)
    chunked.content_length = None
    resp = chunked.get_response(client.app)
    assert resp.status_int == 413 and resp.json["overLimit"]["code"] == 413
