"""The flavors resource."""

from __future__ import annotations

import pytest

from nova_lite.api import microversion
from tests.unit.api.conftest import ALICE

MAX = microversion.MAX_STR
DETAIL_21 = {"id", "name", "links", "ram", "vcpus", "disk", "OS-FLV-EXT-DATA:ephemeral",
             "OS-FLV-DISABLED:disabled", "swap", "rxtx_factor", "os-flavor-access:is_public"}


def test_index(client):
    resp = client.get("/v2.1/flavors", token=ALICE)
    flavors = resp.json["flavors"]
    assert [f["id"] for f in flavors] == ["1", "2", "42"]
    assert set(flavors[0]) == {"id", "name", "links"}
    assert flavors[0]["links"] == [
        {"rel": "self", "href": "http://localhost/v2.1/flavors/1"},
        {"rel": "bookmark", "href": "http://localhost/flavors/1"}]
    flavors = client.get("/v2.1/flavors", token=ALICE, version=MAX).json["flavors"]
    assert set(flavors[0]) == {"id", "name", "links", "description"}


def test_detail_per_version(client):
    f = client.get("/v2.1/flavors/detail", token=ALICE).json["flavors"][0]
    assert set(f) == DETAIL_21 and f["swap"] == ""
    f = client.get("/v2.1/flavors/detail", token=ALICE, version="2.61").json["flavors"][0]
    assert set(f) == DETAIL_21 | {"description", "extra_specs"} and f["swap"] == ""
    f = client.get("/v2.1/flavors/1", token=ALICE, version=MAX).json["flavor"]
    assert f["swap"] == 0 and f["ram"] == 512 and f["extra_specs"] == {}


def test_filters_sort_and_paging(client):
    ids = lambda q: [f["id"] for f in client.get(f"/v2.1/flavors?{q}", token=ALICE)  # noqa
                     .json["flavors"]]
    assert ids("minRam=1024") == ["2"]
    assert ids("minDisk=10") == ["2"]
    assert ids("sort_key=memory_mb&sort_dir=desc") == ["2", "1", "42"]
    assert ids("limit=1&marker=1") == ["2"]
    body = client.get("/v2.1/flavors?limit=2", token=ALICE).json
    assert "marker=2" in body["flavors_links"][0]["href"]
    assert client.get("/v2.1/flavors?marker=nope", token=ALICE).status_int == 400
    assert client.get("/v2.1/flavors?sort_key=bogus", token=ALICE).status_int == 400
    assert client.get("/v2.1/flavors?minRam=x", token=ALICE).status_int == 400


def test_create_and_delete(client, conductor):
    body = {"flavor": {"name": "big", "ram": 4096, "vcpus": "2", "disk": 40,
                       "OS-FLV-EXT-DATA:ephemeral": 1, "swap": 512, "rxtx_factor": 2.0,
                       "os-flavor-access:is_public": False, "description": "d"}}
    resp = client.post("/v2.1/flavors", body, version=MAX)
    assert resp.status_int == 200, resp.text
    f = resp.json["flavor"]
    assert f["name"] == "big" and f["vcpus"] == 2 and f["swap"] == 512
    assert f["os-flavor-access:is_public"] is False and f["description"] == "d"
    assert len(f["id"]) == 36  # generated uuid
    # private flavors: hidden from members, listed for admins with is_public=none/false
    assert f["id"] not in [x["id"] for x in client.get("/v2.1/flavors", token=ALICE)
                           .json["flavors"]]
    assert client.get(f"/v2.1/flavors/{f['id']}", token=ALICE).status_int == 404
    assert f["id"] in [x["id"] for x in client.get("/v2.1/flavors?is_public=none")
                       .json["flavors"]]
    assert client.post("/v2.1/flavors", body, version=MAX).status_int == 409
    assert client.delete(f"/v2.1/flavors/{f['id']}").status_int == 202
    assert client.delete(f"/v2.1/flavors/{f['id']}").status_int == 404


def test_create_with_id(client):
    body = {"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "id": "custom"}}
    resp = client.post("/v2.1/flavors", body)
    assert resp.json["flavor"]["id"] == "custom"
    assert client.post("/v2.1/flavors", dict(body, flavor=dict(body["flavor"], name="y"))
                       ).status_int == 409


@pytest.mark.parametrize("flavor", [
    {"name": "x", "ram": 0, "vcpus": 1, "disk": 0},
    {"name": "x", "ram": 1, "vcpus": 1},
    {"name": " x", "ram": 1, "vcpus": 1, "disk": 0},
    {"name": "x", "ram": 1, "vcpus": 1, "disk": -1},
    {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "extra": 1},
    {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "rxtx_factor": 0},
    {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "id": " bad"},
    {"name": "x", "ram": 1, "vcpus": 1, "disk": 0, "description": "2.1 has none"},
])
def test_create_invalid(client, flavor):
    resp = client.post("/v2.1/flavors", {"flavor": flavor})
    assert resp.status_int == 400, resp.text
    assert "badRequest" in resp.json


def test_manage_is_admin_only(client):
    body = {"flavor": {"name": "x", "ram": 1, "vcpus": 1, "disk": 0}}
    resp = client.post("/v2.1/flavors", body, token=ALICE)
    assert resp.status_int == 403
    assert resp.json["forbidden"]["code"] == 403
    assert client.delete("/v2.1/flavors/1", token=ALICE).status_int == 403
