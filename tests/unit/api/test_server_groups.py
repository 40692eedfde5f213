"""The os-server-groups resource and the group scheduler hint on server create."""

from __future__ import annotations

from tests.unit.api.conftest import ALICE, BOB

URL = "/v2.1/os-server-groups"


def _create(client, token=ALICE, version="2.64", **group):
    group.setdefault("name", "g")
    group.setdefault("policy", "anti-affinity")
    return client.post(URL, {"server_group": group}, token=token, version=version)


def test_create_show_list_delete_264(client):
    resp = _create(client, rules={"max_server_per_host": 2})
    assert resp.status_int == 200, resp.text
    g = resp.json["server_group"]
    assert set(g) == {"id", "name", "policy", "rules", "members", "project_id", "user_id"}
    assert g["policy"] == "anti-affinity" and g["rules"] == {"max_server_per_host": 2}
    assert (g["project_id"], g["user_id"], g["members"]) == ("proj-a", "alice", [])
    assert client.get(f"{URL}/{g['id']}", token=ALICE, version="2.64").json[
        "server_group"] == g
    assert [x["id"] for x in client.get(URL, token=ALICE).json["server_groups"]] == [g["id"]]
    assert client.delete(f"{URL}/{g['id']}", token=ALICE).status_int == 204
    assert client.get(f"{URL}/{g['id']}", token=ALICE).status_int == 404
    assert client.delete(f"{URL}/{g['id']}", token=ALICE).status_int == 404


def test_views_per_version(client):
    resp = client.post(URL, {"server_group": {"name": "old", "policies": ["affinity"]}},
                       token=ALICE)
    g = resp.json["server_group"]
    assert set(g) == {"id", "name", "policies", "members", "metadata"}
    assert g["policies"] == ["affinity"] and g["metadata"] == {}
    g = client.get(f"{URL}/{g['id']}", token=ALICE, version="2.13").json["server_group"]
    assert set(g) == {"id", "name", "policies", "members", "metadata", "project_id",
                      "user_id"}
    g = client.get(f"{URL}/{g['id']}", token=ALICE, version="2.64").json["server_group"]
    assert g["policy"] == "affinity" and g["rules"] == {} and "policies" not in g


def test_soft_policies_need_215(client):
    body = {"server_group": {"name": "s", "policies": ["soft-affinity"]}}
    assert client.post(URL, body, token=ALICE, version="2.14").status_int == 400
    assert client.post(URL, body, token=ALICE, version="2.15").status_int == 200


def test_bad_input(client):
    for body, version in (
            ({"server_group": {"name": "x", "policies": ["affinity", "anti-affinity"]}},
             "2.1"),
            ({"server_group": {"name": "x", "policies": []}}, "2.1"),
            ({"server_group": {"name": "x", "policies": ["bogus"]}}, "2.1"),
            ({"server_group": {"name": "x", "policy": "affinity"}}, "2.63"),
            ({"server_group": {"name": "x", "policies": ["affinity"]}}, "2.64"),
            ({"server_group": {"name": "x", "policy": "bogus"}}, "2.64"),
            ({"server_group": {"name": "", "policy": "affinity"}}, "2.64"),
            ({"server_group": {"name": " x", "policy": "affinity"}}, "2.64"),
            ({"server_group": {"name": "x", "policy": "anti-affinity",
                               "rules": {"max_server_per_host": 0}}}, "2.64"),
            ({"server_group": {"name": "x", "policy": "anti-affinity",
                               "rules": {"other": 1}}}, "2.64"),
            ({"group": {}}, "2.64")):
        resp = client.post(URL, body, token=ALICE, version=version)
        assert resp.status_int == 400, (body, version, resp.text)
        assert "badRequest" in resp.json
    resp = _create(client, policy="affinity", rules={"max_server_per_host": 2})
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Only anti-affinity policy supports rules."
    assert client.get(f"{URL}?limit=x", token=ALICE).status_int == 400
    assert client.get(f"{URL}?offset=-1", token=ALICE).status_int == 400


def test_projects_are_isolated_and_admin_sees_all(client):
    a = _create(client, name="a").json["server_group"]["id"]
    b = _create(client, token=BOB, name="b").json["server_group"]["id"]
    assert [g["id"] for g in client.get(URL, token=BOB).json["server_groups"]] == [b]
    assert [g["id"] for g in client.get(f"{URL}?all_projects=True", token=BOB)
            .json["server_groups"]] == [b]  # not an admin: own project only
    assert client.get(f"{URL}/{a}", token=BOB).status_int == 404
    assert client.delete(f"{URL}/{a}", token=BOB).status_int == 404
    assert client.get(URL).json["server_groups"] == []  # the admin's own project
    everyone = client.get(f"{URL}?all_projects=True").json["server_groups"]
    assert [g["id"] for g in everyone] == [a, b]
    assert [g["id"] for g in client.get(f"{URL}?all_projects=1&limit=1&offset=1")
            .json["server_groups"]] == [b]
    assert client.get(f"{URL}/{a}").status_int == 200  # admins see any group
    assert client.delete(f"{URL}/{a}").status_int == 204


def test_server_create_with_group_hint_and_271_view(client, conductor, image_id):
    gid = _create(client).json["server_group"]["id"]
    body = {"server": {"name": "s", "imageRef": image_id, "flavorRef": "1",
                       "min_count": 2},
            "os:scheduler_hints": {"group": gid}}
    resp = client.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 202, resp.text
    spec = conductor.request_specs[-1]
    assert spec.instance_group.uuid == gid and spec.scheduler_hints == {"group": [gid]}
    members = client.get(f"{URL}/{gid}", token=ALICE).json["server_group"]["members"]
    assert len(members) == 2
    server = client.get(f"/v2.1/servers/{members[0]}", token=ALICE, version="2.71").json
    assert server["server"]["server_groups"] == [gid]
    server = client.get(f"/v2.1/servers/{members[0]}", token=ALICE, version="2.70").json
    assert "server_groups" not in server["server"]
    detail = client.get("/v2.1/servers/detail", token=ALICE, version="2.71").json
    assert all("server_groups" not in s for s in detail["servers"])  # show only


def test_server_create_with_bad_group_hint(client, image_id):
    server = {"name": "s", "imageRef": image_id, "flavorRef": "1"}
    resp = client.post("/v2.1/servers", {"server": server,
                                         "os:scheduler_hints": {"group": "nope"}}, token=ALICE)
    assert resp.status_int == 400
    other = _create(client, token=BOB).json["server_group"]["id"]
    resp = client.post("/v2.1/servers", {"server": server,
                                         "os:scheduler_hints": {"group": other}}, token=ALICE)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        f"Instance group {other} could not be found.")
