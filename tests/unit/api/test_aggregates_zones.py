"""/os-aggregates, /os-availability-zone and server create into a zone."""

from __future__ import annotations

from tests.unit.api.conftest import ALICE

URL = "/v2.1/os-aggregates"


def _setup(conductor):
    for host in ("c1", "c2", "c3"):
        conductor.add_compute(host)
    conductor.add_service("ctl", "nova-conductor")


def test_aggregate_lifecycle(client, conductor):
    _setup(conductor)
    resp = client.post(URL, {"aggregate": {"name": "rack1", "availability_zone": "az1"}},
                       version="2.41")
    assert resp.status_int == 200, resp.text
    agg = resp.json["aggregate"]
    assert set(agg) == {"availability_zone", "created_at", "deleted", "deleted_at", "id",
                        "name", "updated_at", "uuid"}
    assert agg["availability_zone"] == "az1" and agg["deleted"] is False
    url = f"{URL}/{agg['id']}"
    resp = client.post(f"{url}/action", {"add_host": {"host": "c1"}})
    assert resp.status_int == 200 and resp.json["aggregate"]["hosts"] == ["c1"]
    assert "uuid" not in resp.json["aggregate"]  # below 2.41
    resp = client.post(f"{url}/action", {"set_metadata": {"metadata": {"ssd": "true"}}})
    assert resp.json["aggregate"]["metadata"] == {"availability_zone": "az1", "ssd": "true"}
    resp = client.post(f"{url}/action", {"set_metadata": {"metadata": {"ssd": None}}})
    assert resp.json["aggregate"]["metadata"] == {"availability_zone": "az1"}
    resp = client.put(url, {"aggregate": {"name": "rack-1"}})
    assert resp.status_int == 200 and resp.json["aggregate"]["name"] == "rack-1"
    listed = client.get(URL).json["aggregates"]
    assert [(a["name"], a["hosts"]) for a in listed] == [("rack-1", ["c1"])]
    assert client.get(url).json["aggregate"]["hosts"] == ["c1"]
    resp = client.delete(url)
    assert resp.status_int == 400 and "not empty" in resp.json["badRequest"]["message"]
    resp = client.post(f"{url}/action", {"remove_host": {"host": "c1"}})
    assert resp.status_int == 200 and resp.json["aggregate"]["hosts"] == []
    assert client.delete(url).status_int == 200
    assert client.get(url).status_int == 404


def test_aggregate_errors_and_policy(client, conductor):
    _setup(conductor)
    assert client.get(URL, token=ALICE).status_int == 403
    assert client.post(URL, {"aggregate": {"name": "x"}}, token=ALICE).status_int == 403
    agg = client.post(URL, {"aggregate": {"name": "a"}}).json["aggregate"]
    url = f"{URL}/{agg['id']}"
    assert client.post(URL, {"aggregate": {"name": "a"}}).status_int == 409
    for body in ({"aggregate": {}}, {"aggregate": {"name": ""}},
                 {"aggregate": {"name": "b", "availability_zone": "a:b"}},
                 {"aggregate": {"name": "b", "extra": 1}}, {"agg": {}}):
        assert client.post(URL, body).status_int == 400, body
    assert client.post(URL, {"aggregate": {"name": "i", "availability_zone": "internal"}}
                       ).status_int == 400
    assert client.put(url, {"aggregate": {}}).status_int == 400
    assert client.post(f"{url}/action", {"add_host": {"host": "nope"}}).status_int == 404
    client.post(f"{url}/action", {"add_host": {"host": "c1"}})
    assert client.post(f"{url}/action", {"add_host": {"host": "c1"}}).status_int == 409
    assert client.post(f"{url}/action", {"remove_host": {"host": "c2"}}).status_int == 404
    assert client.post(f"{url}/action", {"add_host": {}}).status_int == 400
    assert client.post(f"{url}/action", {"explode": {}}).status_int == 400
    assert client.post(f"{url}/action", {"set_metadata": {"metadata": {"k": 1}}}
                       ).status_int == 400
    assert client.get(f"{URL}/abc").status_int == 400
    assert client.get(f"{URL}/999").status_int == 404


def test_availability_zones(client, conductor):
    _setup(conductor)
    agg = client.post(URL, {"aggregate": {"name": "r", "availability_zone": "az1"}}
                      ).json["aggregate"]
    client.post(f"{URL}/{agg['id']}/action", {"add_host": {"host": "c3"}})
    resp = client.get("/v2.1/os-availability-zone", token=ALICE)
    assert resp.status_int == 200
    assert resp.json == {"availabilityZoneInfo": [
        {"zoneName": "az1", "zoneState": {"available": True}, "hosts": None},
        {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}]}
    assert client.get("/v2.1/os-availability-zone/detail", token=ALICE).status_int == 403
    zones = {z["zoneName"]: z for z in client.get("/v2.1/os-availability-zone/detail")
             .json["availabilityZoneInfo"]}
    assert set(zones) == {"az1", "nova", "internal"}
    assert set(zones["az1"]["hosts"]) == {"c3"}
    assert set(zones["nova"]["hosts"]) == {"c1", "c2"}
    svc = zones["internal"]["hosts"]["ctl"]["nova-conductor"]
    assert svc["available"] is True and svc["active"] is True and svc["updated_at"]
    # the services list shows each compute's zone
    services = {s["host"]: s["zone"] for s in client.get("/v2.1/os-services").json[
        "services"]}
    assert services == {"c1": "nova", "c2": "nova", "c3": "az1", "ctl": "internal"}


def test_disabled_zone_is_listed_unavailable(client, conductor):
    conductor.add_compute("c1", disabled=True)
    assert client.get("/v2.1/os-availability-zone").json["availabilityZoneInfo"] == [
        {"zoneName": "nova", "zoneState": {"available": False}, "hosts": None}]


def test_server_create_into_a_zone(client, conductor, image_id, conf):
    _setup(conductor)
    agg = client.post(URL, {"aggregate": {"name": "r", "availability_zone": "az1"}}
                      ).json["aggregate"]
    client.post(f"{URL}/{agg['id']}/action", {"add_host": {"host": "c3"}})

    def boot(token=ALICE, **server):
        body = {"server": dict({"name": "s", "imageRef": image_id, "flavorRef": "1"},
                               **server)}
        return client.post("/v2.1/servers", body, token=token)

    resp = boot(availability_zone="az1")
    assert resp.status_int == 202, resp.text
    spec = conductor.request_specs[-1]
    assert spec.availability_zone == "az1"
    server = conductor.servers[resp.json["server"]["id"]]
    assert server.pinned_availability_zone == "az1"
    shown = client.get(f"/v2.1/servers/{server.uuid}", token=ALICE, version="2.96").json
    assert shown["server"]["pinned_availability_zone"] == "az1"
    resp = boot(availability_zone="nowhere")
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "The requested availability zone is not available")
    assert boot(availability_zone="az1:c3").status_int == 403  # forcing a host: admins
    assert boot(token="admin:admin", availability_zone="az1:c3").status_int == 202
    assert conductor.request_specs[-1].force_hosts == ["c3"]
    resp = boot()
    assert conductor.request_specs[-1].availability_zone is None
    shown = client.get(f"/v2.1/servers/{resp.json['server']['id']}", token=ALICE,
                       version="2.96").json
    assert shown["server"]["pinned_availability_zone"] is None
    conf.default_schedule_zone = "az1"
    boot()
    assert conductor.request_specs[-1].availability_zone == "az1"
