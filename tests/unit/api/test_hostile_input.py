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


@pytest.mark.parametrize("raw", [
    b"[" * 100000, b'{"a":' * 15000 + b"1" + b"}" * 15000,
    # parses, but deeper than any compute body (a schema walk would recurse that deep)
    b'{"changePassword": {"adminPass": ' + b"[" * 400 + b"]" * 400 + b"}}"])
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


BIG = "9" * 20  # wider than any database integer column (SQLite refuses to bind it)


def test_ids_and_filters_too_wide_for_the_database(client):
    assert client.get(f"/v2.1/os-aggregates/{BIG}").status_int == 404
    assert client.delete(f"/v2.1/os-aggregates/{BIG}").status_int == 404
    assert client.delete(f"/v2.1/os-services/{BIG}", version="2.52").status_int == 404
    for query in (f"minRam={BIG}", f"minDisk={BIG}", "minRam=" + "9" * 5000,
                  "limit=" + "9" * 5000):
        resp = client.get(f"/v2.1/flavors?{query}")
        assert resp.status_int == 200
    assert client.get(f"/v2.1/flavors?minRam={BIG}").json["flavors"] == []


@pytest.mark.parametrize("value", ["9" * 23, "2147483648", "9" * 5000, 2 ** 31])
def test_quota_limit_wider_than_its_column_is_400(client, value):
    for path, key in (("/v2.1/os-quota-sets/proj-a", "quota_set"),
                      ("/v2.1/os-quota-class-sets/default", "quota_class_set")):
        resp = client.put(path, {key: {"instances": value}})
        assert resp.status_int == 400, resp.text
    resp = client.put("/v2.1/os-quota-sets/proj-a", {"quota_set": {"instances": "2147483647"}})
    assert resp.json["quota_set"]["instances"] == 2147483647


@pytest.mark.parametrize("field", ["ram", "vcpus", "disk", "swap"])
def test_flavor_size_given_as_a_huge_string_is_400(client, field):
    flavor = {"name": "big", "ram": "512", "vcpus": "1", "disk": "1", field: "9" * 23}
    resp = client.post("/v2.1/flavors", {"flavor": flavor})
    assert resp.status_int == 400, resp.text
    assert "maximum" in resp.json["badRequest"]["message"]
    flavor[field] = "9" * 5000
    assert client.post("/v2.1/flavors", {"flavor": flavor}).status_int == 400


def test_lone_surrogate_in_a_body_is_malformed_a_pair_is_text(client, conductor):
    inst = conductor.add_server()
    path = f"/v2.1/servers/{inst.uuid}/metadata"
    resp = client.post(path, raw=b'{"metadata": {"a": "\\ud800"}}')
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Malformed request body"
    resp = client.post(path, raw=b'{"metadata": {"a": "\\ud83d\\udca5"}}')
    assert resp.status_int == 200 and resp.json["metadata"]["a"] == "\U0001f4a5"


def test_quota_update_of_a_project_id_wider_than_its_column_is_400(client):
    resp = client.put("/v2.1/os-quota-sets/" + "p" * 256, {"quota_set": {"cores": 3}})
    assert resp.status_int == 400
    resp = client.put("/v2.1/os-quota-sets/proj-a?user_id=" + "u" * 256,
                      {"quota_set": {"cores": 3}})
    assert resp.status_int == 400


@pytest.mark.parametrize("ram", ["\n", "512\n"])
def test_a_final_newline_does_not_pass_a_digits_pattern(client, ram):
    resp = client.post("/v2.1/flavors", {"flavor": {"name": "nl", "ram": ram, "vcpus": 1,
                                                    "disk": 1}})
    assert resp.status_int == 400, resp.text
    assert "does not match" in resp.json["badRequest"]["message"]
