"""Flavor extra specs (2.86 validation), flavor access and PUT /flavors/{id} (2.55)."""

from __future__ import annotations

from tests.unit.api.conftest import ALICE, BOB


def _private(client) -> str:
    body = {"flavor": {"name": "priv", "ram": 256, "vcpus": 1, "disk": 1, "id": "p1",
                       "os-flavor-access:is_public": False}}
    assert client.post("/v2.1/flavors", body).status_int == 200
    return "p1"


def test_extra_specs_crud(client):
    url = "/v2.1/flavors/1/os-extra_specs"
    assert client.get(url, token=ALICE).json == {"extra_specs": {}}
    resp = client.post(url, {"extra_specs": {"hw:cpu_policy": "dedicated", "n": 3,
                                             "b": True}})
    assert resp.status_int == 200
    assert resp.json == {"extra_specs": {"hw:cpu_policy": "dedicated", "n": "3", "b": "True"}}
    assert client.get(f"{url}/n", token=ALICE).json == {"n": "3"}
    resp = client.put(f"{url}/n", {"n": "4"})
    assert resp.status_int == 200 and resp.json == {"n": "4"}
    assert client.get(url).json["extra_specs"]["n"] == "4"
    # shown in the flavor itself from 2.61
    assert client.get("/v2.1/flavors/1", version="2.61").json["flavor"]["extra_specs"] == {
        "hw:cpu_policy": "dedicated", "n": "4", "b": "True"}
    assert client.delete(f"{url}/n").status_int == 202
    resp = client.get(f"{url}/n")
    assert resp.status_int == 404
    assert resp.json["itemNotFound"]["message"] == "Flavor 1 has no extra specs with key n."
    assert client.delete(f"{url}/n").status_int == 404
    assert client.get("/v2.1/flavors/nope/os-extra_specs").status_int == 404


def test_extra_specs_bad_input(client):
    url = "/v2.1/flavors/1/os-extra_specs"
    resp = client.put(f"{url}/a", {"b": "1"})
    assert resp.status_int == 400 and "Request body and URI mismatch" in resp.text
    assert client.put(f"{url}/a", {"a": "1", "b": "2"}).status_int == 400
    assert client.post(url, {"extra_specs": {"bad key!": "1"}}).status_int == 400
    assert client.post(url, {"extra_specs": {"k": "x" * 256}}).status_int == 400
    assert client.post(url, {"specs": {}}).status_int == 400
    assert client.post(url, raw=b"{").status_int == 400


def test_extra_specs_validation_from_286(client):
    url = "/v2.1/flavors/1/os-extra_specs"
    bad = {"extra_specs": {"hw:cpu_policy": "sometimes"}}
    assert client.post(url, bad, version="2.85").status_int == 200  # not checked before
    resp = client.post(url, bad, version="2.86")
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "Validation failed; extra spec 'hw:cpu_policy' must be one of: dedicated, shared, "
        "mixed; got 'sometimes'.")
    for specs in ({"hw:no_such_thing": "1"}, {"resources:VCPU": "-1"},
                  {"resources:VCPU": "x"}, {"trait:HW_CPU_X86_AVX2": "maybe"},
                  {"hw_rng:allowed": "perhaps"}):
        assert client.post(url, {"extra_specs": specs}, version="2.86").status_int == 400
    good = {"resources:VCPU": "0", "resources:CUSTOM_GPU": "1",
            "trait:HW_CPU_X86_AVX2": "required", "trait:CUSTOM_X": "forbidden",
            "aggregate_instance_extra_specs:ssd": "true", "my_own:key": "anything",
            "plain": "x", "hw:mem_page_size": "2MB", "hw:numa_nodes": "2"}
    resp = client.post(url, {"extra_specs": good}, version="2.86")
    assert resp.status_int == 200, resp.text
    assert client.put(f"{url}/hw:numa_nodes", {"hw:numa_nodes": "0"},
                      version="2.86").status_int == 400


def test_extra_specs_policy(client):
    url = "/v2.1/flavors/1/os-extra_specs"
    assert client.post(url, {"extra_specs": {"a": "1"}}, token=ALICE).status_int == 403
    assert client.put(f"{url}/a", {"a": "1"}, token=ALICE).status_int == 403
    assert client.delete(f"{url}/a", token=ALICE).status_int == 403
    assert client.get(url, token=ALICE).status_int == 200


def test_flavor_description_update(client):
    body = {"flavor": {"description": "small and cheap"}}
    assert client.put("/v2.1/flavors/1", body, version="2.54").status_int == 404
    assert client.put("/v2.1/flavors/1", body, token=ALICE, version="2.55").status_int == 403
    resp = client.put("/v2.1/flavors/1", body, version="2.55")
    assert resp.status_int == 200
    assert resp.json["flavor"]["description"] == "small and cheap"
    assert resp.json["flavor"]["id"] == "1" and resp.json["flavor"]["ram"] == 512
    assert client.get("/v2.1/flavors/1", version="2.55").json["flavor"][
        "description"] == "small and cheap"
    for bad in ({"flavor": {"name": "x"}}, {"flavor": {}}, {"flavor": {"description": 3}}):
        assert client.put("/v2.1/flavors/1", bad, version="2.55").status_int == 400
    assert client.put("/v2.1/flavors/zz", body, version="2.55").status_int == 404


def test_private_flavor_access(client, image_id):
    fid = _private(client)
    ids = lambda token: [f["id"] for f in client.get(  # noqa: E731
        "/v2.1/flavors", token=token).json["flavors"]]
    assert fid not in ids(ALICE)
    assert client.get(f"/v2.1/flavors/{fid}", token=ALICE).status_int == 404
    assert client.get(f"/v2.1/flavors/{fid}/os-extra_specs", token=ALICE).status_int == 404
    server = {"server": {"name": "s", "imageRef": image_id, "flavorRef": fid}}
    resp = client.post("/v2.1/servers", server, token=ALICE)
    assert resp.status_int == 400 and f"Flavor {fid} could not be found" in resp.text

    url = f"/v2.1/flavors/{fid}/action"
    assert client.post(url, {"addTenantAccess": {"tenant": "proj-a"}},
                       token=ALICE).status_int == 403
    resp = client.post(url, {"addTenantAccess": {"tenant": "proj-a"}})
    assert resp.status_int == 200
    assert resp.json == {"flavor_access": [{"flavor_id": fid, "tenant_id": "proj-a"}]}
    assert client.post(url, {"addTenantAccess": {"tenant": "proj-a"}}).status_int == 409
    assert client.get(f"/v2.1/flavors/{fid}/os-flavor-access").json == resp.json
    assert client.get(f"/v2.1/flavors/{fid}/os-flavor-access",
                      token=ALICE).status_int == 403

    assert fid in ids(ALICE) and fid not in ids(BOB)
    assert client.get(f"/v2.1/flavors/{fid}", token=ALICE).status_int == 200
    assert client.get(f"/v2.1/flavors/{fid}", token=BOB).status_int == 404
    assert client.post("/v2.1/servers", server, token=ALICE).status_int == 202
    assert client.post("/v2.1/servers", server, token=BOB).status_int == 400

    resp = client.post(url, {"removeTenantAccess": {"tenant": "proj-a"}})
    assert resp.status_int == 200 and resp.json == {"flavor_access": []}
    assert client.post(url, {"removeTenantAccess": {"tenant": "proj-a"}}).status_int == 404
    assert fid not in ids(ALICE)


def test_flavor_access_bad_input(client):
    fid = _private(client)
    url = f"/v2.1/flavors/{fid}/action"
    resp = client.get("/v2.1/flavors/1/os-flavor-access")
    assert resp.status_int == 404 and "public flavors" in resp.text
    resp = client.post("/v2.1/flavors/1/action", {"addTenantAccess": {"tenant": "p"}})
    assert resp.status_int == 409 and "public flavor" in resp.text
    assert client.post(url, {"addTenantAccess": {}}).status_int == 400
    assert client.post(url, {"addTenantAccess": {"tenant": "a b"}}).status_int == 400
    assert client.post(url, {"explode": {}}).status_int == 400
    assert client.post("/v2.1/flavors/none/action",
                       {"addTenantAccess": {"tenant": "p"}}).status_int == 404
