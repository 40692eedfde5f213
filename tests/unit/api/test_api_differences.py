"""Differences from Nova found with real clients, each pinned: sorting of server and
flavor lists, limit=0, tenant_id without all_tenants, a deleted server's actions (2.21),
GET / and /os-hypervisors/statistics."""

from __future__ import annotations

import datetime

import pytest

from tests.unit.api.conftest import ALICE, BOB
from tests.unit.api.fake_conductor import utcnow


@pytest.fixture
def named(conductor):
    base = utcnow()
    return [conductor.add_server(name=n, host=h, created_at=base + datetime.timedelta(seconds=i))
            for i, (n, h) in enumerate((("bravo", "c2"), ("alpha", "c3"), ("charlie", "c1")))]


def _names(resp):
    assert resp.status_int == 200, resp.text
    return [s["name"] for s in resp.json["servers"]]


def test_server_sort_key_and_dir(client, named):
    assert _names(client.get("/v2.1/servers", token=ALICE)) == ["charlie", "alpha", "bravo"]
    assert _names(client.get("/v2.1/servers?sort_key=display_name&sort_dir=asc",
                             token=ALICE)) == ["alpha", "bravo", "charlie"]
    assert _names(client.get("/v2.1/servers/detail?sort_key=display_name", token=ALICE)
                  ) == ["charlie", "bravo", "alpha"]
    # paging follows the sort
    page = client.get("/v2.1/servers?sort_key=display_name&sort_dir=asc&limit=2",
                      token=ALICE).json
    assert [s["name"] for s in page["servers"]] == ["alpha", "bravo"]
    # host sorts for admins only; ignored keys are ignored
    assert _names(client.get("/v2.1/servers?sort_key=host&sort_dir=asc&all_tenants=1")
                  ) == ["charlie", "bravo", "alpha"]
    assert _names(client.get("/v2.1/servers?sort_key=host&sort_dir=asc", token=ALICE)
                  ) == ["charlie", "alpha", "bravo"]
    assert _names(client.get("/v2.1/servers?sort_key=vcpus", token=ALICE)
                  ) == ["charlie", "alpha", "bravo"]


@pytest.mark.parametrize("query,fragment", [
    ("sort_key=bogus", "sort_key"), ("sort_dir=up", "sort_dir"),
    ("sort_key=display_name&sort_dir=sideways", "sort_dir")])
def test_bad_sort_is_400(client, named, query, fragment):
    resp = client.get(f"/v2.1/servers?{query}", token=ALICE)
    assert resp.status_int == 400 and fragment in resp.json["badRequest"]["message"]


def test_flavor_sort(client):
    resp = client.get("/v2.1/flavors?sort_key=memory_mb&sort_dir=desc", token=ALICE)
    assert [f["id"] for f in resp.json["flavors"]] == ["2", "1", "42"]
    resp = client.get("/v2.1/flavors?sort_key=name&sort_dir=asc", token=ALICE)
    assert [f["name"] for f in resp.json["flavors"]] == ["m1.nano", "m1.small", "m1.tiny"]
    assert client.get("/v2.1/flavors?sort_key=bogus", token=ALICE).status_int == 400


def test_limit_zero_returns_no_servers(client, named):
    assert _names(client.get("/v2.1/servers?limit=0", token=ALICE)) == []
    assert _names(client.get("/v2.1/servers/detail?limit=0", token=ALICE)) == []


def test_tenant_id_without_all_tenants_is_ignored(client, conductor, named):
    conductor.add_server(project_id="proj-b", name="theirs")
    # the admin's own project (admin) has none; tenant_id alone does not change that
    assert _names(client.get("/v2.1/servers?tenant_id=proj-b")) == []
    assert _names(client.get("/v2.1/servers?project_id=proj-b")) == []
    assert _names(client.get("/v2.1/servers?tenant_id=proj-b&all_tenants=1")) == ["theirs"]
    assert "theirs" not in _names(client.get("/v2.1/servers?tenant_id=proj-b", token=ALICE))


def test_actions_of_a_deleted_server_from_221(client, image_id):
    body = {"server": {"name": "vm", "imageRef": image_id, "flavorRef": "1"}}
    server_id = client.post("/v2.1/servers", body, token=ALICE).json["server"]["id"]
    client.delete(f"/v2.1/servers/{server_id}", token=ALICE)
    path = f"/v2.1/servers/{server_id}/os-instance-actions"
    assert client.get(path, token=ALICE, version="2.20").status_int == 404
    resp = client.get(path, token=ALICE, version="2.21")
    assert resp.status_int == 200
    assert [a["action"] for a in resp.json["instanceActions"]] == ["create"]
    request_id = resp.json["instanceActions"][0]["request_id"]
    assert client.get(f"{path}/{request_id}", token=ALICE, version="2.21").status_int == 200
    assert client.get(path, token=BOB, version="2.21").status_int == 404


def test_root_is_200(client):
    assert client.get("/", token=None).status_int == 200


def test_hypervisor_statistics(client, conductor):
    conductor.add_compute("c1")
    conductor.add_compute("c2")
    stats = client.get("/v2.1/os-hypervisors/statistics").json["hypervisor_statistics"]
    assert stats["count"] == 2 and stats["vcpus"] == 16 and stats["memory_mb"] == 32768
    assert stats["free_ram_mb"] == 2 * (16384 - 1024) and stats["running_vms"] == 2
    assert client.get("/v2.1/os-hypervisors/statistics", token=ALICE).status_int == 403
    assert client.get("/v2.1/os-hypervisors/statistics", version="2.88").status_int == 404
