"""Inputs the fuzzer (tests/fuzz) found answered with a 500, each now a 4xx or served."""

from __future__ import annotations

import pytest

from tests.unit.api.conftest import ADMIN, ALICE


@pytest.mark.parametrize("path", [
    "/v2.1/servers/detail?status=%FF%FE", "/v2.1/flavors?%FF=1",
    "/v2.1/os-keypairs?marker=%C3%28", "/v2.1/servers/%FF%FE",
    "/v2.1/servers/%C3%28/action", "/v2.1/os-quota-sets/%ED%A0%80",
])
def test_path_or_query_not_utf8_is_400(client, path):
    method = "POST" if path.endswith("action") else "GET"
    resp = client.request(method, path, body={"os-start": None} if method == "POST" else None)
    assert resp.status_int == 400
    assert "UTF-8" in resp.json["badRequest"]["message"]


@pytest.mark.parametrize("raw", [b"[" * 100000, b'{"a":' * 15000 + b"1" + b"}" * 15000])
def test_body_nested_too_deep_is_malformed(client, conductor, raw):
    inst = conductor.add_server()
    resp = client.post(f"/v2.1/servers/{inst.uuid}/action", raw=raw)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Malformed request body"


def test_security_group_entry_without_a_name_asks_for_nothing(client, image_id):
    resp = client.post("/v2.1/servers", {"server": {
        "name": "vm", "imageRef": image_id, "flavorRef": "1",
        "security_groups": [{}, {"name": "default"}]}}, token=ALICE)
    assert resp.status_int == 202, resp.text
    assert resp.json["server"]["security_groups"] == [{"name": "default"}]
    resp = client.get("/v2.1/servers?all_tenants=1", token=ADMIN)
    assert resp.status_int == 200
