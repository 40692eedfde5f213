"""Version documents, microversion negotiation, faults and routing basics."""

from __future__ import annotations

import pytest
import webob

from nova_lite.api import microversion
from tests.unit.api.conftest import ALICE


def test_root_lists_versions_unauthenticated(client):
    resp = client.get("/", token=None)
    assert resp.status_int == 200
    versions = resp.json["versions"]
    assert [v["id"] for v in versions] == ["v2.0", "v2.1"]
    v21 = versions[1]
    assert v21["status"] == "CURRENT"
    assert v21["version"] == microversion.MAX_STR
    assert v21["min_version"] == "2.1"
    assert v21["links"] == [{"rel": "self", "href": "http://localhost/v2.1/"}]
    # every self link works
    for v in versions:
        path = v["links"][0]["href"].replace("http://localhost", "")
        assert client.get(path, token=None).status_int == 200


def test_root_answers_each_base_url_with_its_own_links(client):
    """The root document is made once per base URL, never one host's for another."""
    first = client.get("/", headers={"Host": "api.example:8774"})
    again = client.get("/", token=None, headers={"Host": "api.example:8774"})
    other = client.get("/", headers={"Host": "other.example"})
    assert first.body == again.body and first.content_type == "application/json"
    assert first.json["versions"][1]["links"][0]["href"] == "http://api.example:8774/v2.1/"
    assert other.json["versions"][1]["links"][0]["href"] == "http://other.example/v2.1/"
    head = client.request("HEAD", "/", headers={"Host": "api.example:8774"})
    assert head.status_int == 200 and head.body == b""
    assert head.content_length == len(first.body)
    assert client.post("/", {}).status_int == 405


@pytest.mark.parametrize("path", ["/v2.1", "/v2.1/"])
def test_v21_document(client, path):
    resp = client.get(path, token=None)
    assert resp.status_int == 200
    doc = resp.json["version"]
    assert doc["id"] == "v2.1"
    assert doc["version"] == microversion.MAX_STR
    assert doc["min_version"] == "2.1"
    assert doc["updated"]
    assert doc["links"][0] == {"rel": "self", "href": "http://localhost/v2.1/"}
    assert doc["media-types"][0]["base"] == "application/json"


def test_unauthenticated_api_request_is_401(client):
    resp = client.get("/v2.1/servers", token=None)
    assert resp.status_int == 401


def _ver(resp):
    return (resp.headers["OpenStack-API-Version"],
            resp.headers["X-OpenStack-Nova-API-Version"])


def test_default_version_is_21_and_echoed(client):
    resp = client.get("/v2.1/flavors")
    assert resp.status_int == 200
    assert _ver(resp) == ("compute 2.1", "2.1")
    assert "OpenStack-API-Version" in resp.headers["Vary"]
    assert "X-OpenStack-Nova-API-Version" in resp.headers["Vary"]


def test_new_header(client):
    resp = client.get("/v2.1/flavors", version="2.55")
    assert _ver(resp) == ("compute 2.55", "2.55")


def test_legacy_header(client):
    resp = client.get("/v2.1/flavors", headers={"X-OpenStack-Nova-API-Version": "2.19"})
    assert _ver(resp) == ("compute 2.19", "2.19")


def test_new_header_wins_over_legacy(client):
    resp = client.get("/v2.1/flavors", headers={
        "X-OpenStack-Nova-API-Version": "2.19", "OpenStack-API-Version": "compute 2.30"})
    assert _ver(resp) == ("compute 2.30", "2.30")


def test_other_services_in_header_are_ignored(client):
    resp = client.get("/v2.1/flavors", headers={
        "OpenStack-API-Version": "identity 3.9, compute 2.12"})
    assert _ver(resp)[1] == "2.12"


@pytest.mark.parametrize("header", ["OpenStack-API-Version", "X-OpenStack-Nova-API-Version"])
def test_latest(client, header):
    value = "compute latest" if header.startswith("Open") else "latest"
    resp = client.get("/v2.1/flavors", headers={header: value})
    assert _ver(resp)[1] == microversion.MAX_STR


@pytest.mark.parametrize("ver", ["2.0", "3.0", "2.999", "1.1"])
def test_out_of_range_is_406(client, ver):
    resp = client.get("/v2.1/flavors", version=ver)
    assert resp.status_int == 406
    assert resp.json["computeFault"]["code"] == 406


@pytest.mark.parametrize("ver", ["2", "abc", "2.x", "2.01", "02.1"])
def test_malformed_version_is_400(client, ver):
    resp = client.get("/v2.1/flavors", version=ver)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["code"] == 400


def test_unknown_url_is_404_with_fault_body(client):
    resp = client.get("/v2.1/no-such-thing")
    assert resp.status_int == 404
    assert resp.json["itemNotFound"]["code"] == 404
    assert client.get("/nope").status_int == 404


def test_wrong_method_is_405(client):
    resp = client.request("PATCH", "/v2.1/servers")
    assert resp.status_int == 405
    assert "badMethod" in resp.json
    assert "GET" in resp.headers["Allow"]


def test_malformed_json_is_400(client):
    resp = client.post("/v2.1/servers", raw=b"{not json")
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Malformed request body"


def test_project_id_in_url(client):
    resp = client.get("/v2.1/proj-a/flavors", token=ALICE)
    assert resp.status_int == 200
    link = resp.json["flavors"][0]["links"][0]["href"]
    assert link.startswith("http://localhost/v2.1/proj-a/flavors/")
    resp = client.get("/v2.1/other/flavors", token=ALICE)
    assert resp.status_int == 400
    # an unknown resource is 404, not a project id mismatch (os-networks/none)
    assert client.get("/v2.1/os-networks/none", token=ALICE).status_int == 404


def test_request_id_is_the_contexts(client):
    r1 = client.get("/v2.1/flavors")
    r2 = client.get("/v2.1/flavors")
    assert r1.headers["x-openstack-request-id"] != r2.headers["x-openstack-request-id"]
    assert client.get("/", token=None).headers["x-openstack-request-id"].startswith("req-")


def test_unexpected_error_is_500_computefault(client, conductor, monkeypatch):
    def boom(*a, **kw):
        raise RuntimeError("bug")

    monkeypatch.setattr(conductor, "flavor_list", boom)
    req = webob.Request.blank("/v2.1/flavors")
    req.headers["X-Auth-Token"] = "admin:admin"
    out = req.get_response(client.app)
    assert out.status_int == 500
    assert out.json["computeFault"]["code"] == 500
    assert out.headers["x-openstack-request-id"].startswith("req-")


def test_messaging_timeout_is_reported(client, conductor, monkeypatch):
    import oslo_messaging

    def slow(*a, **kw):
        raise oslo_messaging.MessagingTimeout("no reply")

    monkeypatch.setattr(conductor, "flavor_list", slow)
    req = webob.Request.blank("/v2.1/flavors")
    req.headers["X-Auth-Token"] = "admin:admin"
    out = req.get_response(client.app)
    assert out.status_int == 503 and out.headers["Retry-After"] == "5"
    assert "timed out" in out.json["serviceUnavailable"]["message"]


def test_unreachable_database_is_503_with_retry_after(client, conductor, monkeypatch):
    from nova_lite import exception

    def down(*a, **kw):
        raise exception.DatabaseUnavailable(reason="(2003, \"Can't connect\")")

    monkeypatch.setattr(conductor, "flavor_list", down)
    req = webob.Request.blank("/v2.1/flavors")
    req.headers["X-Auth-Token"] = "admin:admin"
    out = req.get_response(client.app)
    assert out.status_int == 503 and out.headers["Retry-After"] == "5"
    assert "database is unreachable" in out.json["serviceUnavailable"]["message"]
