"""Server metadata (6 endpoints), server tags (6 endpoints, 2.26), tags on create (2.52)
and the four tag filters of the server list."""

from __future__ import annotations

from nova_lite.compute import states
from tests.unit.api.conftest import ALICE, BOB

V = "2.26"


def test_metadata_endpoints(client, conductor):
    sid = conductor.add_server(metadata={"a": "1"}).uuid
    url = f"/v2.1/servers/{sid}/metadata"
    assert client.get(url, token=ALICE).json == {"metadata": {"a": "1"}}
    resp = client.post(url, {"metadata": {"b": "2"}}, token=ALICE)
    assert resp.status_int == 200 and resp.json == {"metadata": {"a": "1", "b": "2"}}
    resp = client.put(url, {"metadata": {"c": "3"}}, token=ALICE)
    assert resp.status_int == 200 and resp.json == {"metadata": {"c": "3"}}
    assert client.get(f"{url}/c", token=ALICE).json == {"meta": {"c": "3"}}
    resp = client.put(f"{url}/d", {"meta": {"d": "4"}}, token=ALICE)
    assert resp.status_int == 200 and resp.json == {"meta": {"d": "4"}}
    assert client.get(url, token=ALICE).json == {"metadata": {"c": "3", "d": "4"}}
    assert client.delete(f"{url}/c", token=ALICE).status_int == 204
    resp = client.get(f"{url}/c", token=ALICE)
    assert resp.status_int == 404
    assert resp.json == {"itemNotFound": {"code": 404, "message": "Metadata item was not found"}}
    assert client.delete(f"{url}/c", token=ALICE).status_int == 404
    # shown in the server
    assert client.get(f"/v2.1/servers/{sid}", token=ALICE).json["server"]["metadata"] == {
        "d": "4"}


def test_metadata_bad_input(client, conductor):
    sid = conductor.add_server().uuid
    url = f"/v2.1/servers/{sid}/metadata"
    resp = client.put(f"{url}/a", {"meta": {"b": "1"}}, token=ALICE)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Request body and URI mismatch"
    resp = client.put(f"{url}/a", {"meta": {"a": "1", "b": "2"}}, token=ALICE)
    assert resp.json["badRequest"]["message"] == "Request body contains too many items"
    for body in ({"meta": {}}, {"metadata": {"a": 1}}, {"metadata": {"": "x"}},
                 {"metadata": {"a": "x" * 256}}, {"metadata": {"k/": "v"}}, {"metadata": []},
                 {"other": {}}):
        assert client.post(url, body, token=ALICE).status_int == 400, body
    assert client.post(url, raw=b"not json", token=ALICE).status_int == 400
    resp = client.post(url, {"metadata": {f"k{i}": "v" for i in range(129)}}, token=ALICE)
    assert resp.status_int == 403 and "forbidden" in resp.json
    assert client.get("/v2.1/servers/nope/metadata", token=ALICE).status_int == 404


def test_metadata_state_lock_and_projects(client, conductor):
    building = conductor.add_server(vm_state=states.BUILDING, host=None).uuid
    resp = client.post(f"/v2.1/servers/{building}/metadata", {"metadata": {"a": "1"}},
                       token=ALICE)
    assert resp.status_int == 409 and "conflictingRequest" in resp.json
    locked = conductor.add_server(locked=True).uuid
    assert client.post(f"/v2.1/servers/{locked}/metadata", {"metadata": {"a": "1"}},
                       token=ALICE).status_int == 409
    assert client.get(f"/v2.1/servers/{locked}/metadata", token=ALICE).status_int == 200
    mine = conductor.add_server().uuid
    for method in ("GET", "POST", "PUT"):
        resp = client.request(method, f"/v2.1/servers/{mine}/metadata", token=BOB,
                              body={"metadata": {}} if method != "GET" else None)
        assert resp.status_int == 404, method
    assert client.get(f"/v2.1/servers/{mine}/metadata").status_int == 200  # admin


def test_tags_endpoints(client, conductor):
    sid = conductor.add_server().uuid
    url = f"/v2.1/servers/{sid}/tags"
    assert client.get(url, token=ALICE, version="2.25").status_int == 404
    assert client.get(url, token=ALICE, version=V).json == {"tags": []}
    resp = client.put(url, {"tags": ["b", "a", "a"]}, token=ALICE, version=V)
    assert resp.status_int == 200 and resp.json == {"tags": ["a", "b"]}
    resp = client.put(f"{url}/c", token=ALICE, version=V)
    assert resp.status_int == 201
    assert resp.headers["Location"].endswith(f"/v2.1/servers/{sid}/tags/c")
    assert client.put(f"{url}/c", token=ALICE, version=V).status_int == 204
    assert client.get(f"{url}/c", token=ALICE, version=V).status_int == 204
    resp = client.get(f"{url}/zz", token=ALICE, version=V)
    assert resp.status_int == 404 and "has no tag 'zz'" in resp.json["itemNotFound"]["message"]
    assert client.delete(f"{url}/a", token=ALICE, version=V).status_int == 204
    assert client.delete(f"{url}/a", token=ALICE, version=V).status_int == 404
    assert client.get(f"/v2.1/servers/{sid}", token=ALICE, version=V).json["server"][
        "tags"] == ["b", "c"]
    assert client.delete(url, token=ALICE, version=V).status_int == 204
    assert client.get(url, token=ALICE, version=V).json == {"tags": []}


def test_tags_bad_input_and_limits(client, conductor):
    sid = conductor.add_server().uuid
    url = f"/v2.1/servers/{sid}/tags"
    for body in ({"tags": ["a,b"]}, {"tags": ["a/b"]}, {"tags": [""]}, {"tags": ["x" * 61]},
                 {"tags": [f"t{i}" for i in range(51)]}, {"tags": "a"}, {"tag": []}):
        assert client.put(url, body, token=ALICE, version=V).status_int == 400, body
    assert client.put(f"{url}/{'x' * 61}", token=ALICE, version=V).status_int == 400
    client.put(url, {"tags": [f"t{i}" for i in range(50)]}, token=ALICE, version=V)
    resp = client.put(f"{url}/one-more", token=ALICE, version=V)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "The number of tags exceeded the per-server limit 50")
    assert client.put(f"{url}/x", token=BOB, version=V).status_int == 404
    building = conductor.add_server(vm_state=states.BUILDING, host=None).uuid
    assert client.put(f"/v2.1/servers/{building}/tags/x", token=ALICE,
                      version=V).status_int == 409


def test_tags_on_create_and_list_filters(client, conductor, image_id):
    def boot(name, tags, version="2.52"):
        body = {"server": {"name": name, "imageRef": image_id, "flavorRef": "1",
                           "networks": "none", "tags": tags}}
        return client.post("/v2.1/servers", body, token=ALICE, version=version)

    assert boot("x", ["a"], version="2.51").status_int == 400  # tags need 2.52
    ids = {}
    for name, tags in (("ab", ["a", "b"]), ("a", ["a"]), ("c", ["c"]), ("none", [])):
        resp = boot(name, tags)
        assert resp.status_int == 202, resp.text
        ids[name] = resp.json["server"]["id"]
    assert conductor.servers[ids["ab"]].tags == ["a", "b"]

    def names(query):
        servers = client.get(f"/v2.1/servers?{query}", token=ALICE).json["servers"]
        return sorted(s["name"] for s in servers)

    assert names("tags=a") == ["a", "ab"]
    assert names("tags=a,b") == ["ab"]
    assert names("tags-any=b,c") == ["ab", "c"]
    assert names("not-tags=a,b") == ["a", "c", "none"]
    assert names("not-tags-any=a") == ["c", "none"]
    assert names("tags=a&not-tags-any=b") == ["a"]
    detail = client.get(f"/v2.1/servers/{ids['ab']}", token=ALICE, version="2.26").json
    assert detail["server"]["tags"] == ["a", "b"]
    assert boot("x", ["a,b"]).status_int == 400
