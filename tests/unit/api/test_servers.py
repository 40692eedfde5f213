"""The servers resource: create, list, show, update, delete and their views."""

from __future__ import annotations

import base64
import collections

import pytest

from nova_lite.api import microversion
from nova_lite.compute import states
from nova_lite.objects.instance import InstanceFault
from tests.unit.api.conftest import ALICE, BOB
from tests.unit.api.fake_conductor import utcnow

MAX = microversion.MAX_STR


def _create(client, image_id, token=ALICE, version=None, **server):
    body = {"server": {"name": "web", "imageRef": image_id, "flavorRef": "1", **server}}
    if version and microversion.parse(version) >= (2, 37) and "networks" not in server:
        body["server"]["networks"] = "none"
    return client.post("/v2.1/servers", body, token=token, version=version)


# -- create ---------------------------------------------------------------------------

def test_create_21(client, conductor, image_id):
    resp = _create(client, image_id, metadata={"a": "b"})
    assert resp.status_int == 202, resp.text
    server = resp.json["server"]
    assert set(server) == {"id", "links", "OS-DCF:diskConfig", "security_groups",
                           "adminPass"}
    assert server["security_groups"] == [{"name": "default"}]
    assert len(server["adminPass"]) >= 8
    assert resp.headers["Location"] == server["links"][0]["href"]
    inst = conductor.servers[server["id"]]
    assert inst.vm_state == "building" and inst.task_state == "scheduling"
    assert inst.project_id == "proj-a" and inst.user_id == "alice"
    assert inst.flavor.flavorid == "1" and inst.memory_mb == 512
    assert inst.reservation_id.startswith("r-") and len(inst.reservation_id) == 10
    assert inst.hostname == "web" and inst.metadata == {"a": "b"}
    assert inst.image_ref == image_id and inst.cell_name is None
    assert inst.display_description == "web"  # before 2.19 Nova copies the name
    spec = conductor.request_specs[0]
    assert spec.num_instances == 1 and spec.instance_uuid == inst.uuid


def test_create_flavor_href_and_image_href(client, conductor, image_id):
    resp = _create(client, f"http://localhost/images/{image_id}",
                   flavorRef="http://localhost/v2.1/flavors/2")
    assert resp.status_int == 202, resp.text
    assert conductor.servers[resp.json["server"]["id"]].flavor.flavorid == "2"


def test_create_multi_with_reservation_id(client, conductor, image_id):
    resp = _create(client, image_id, min_count=2, max_count=3, return_reservation_id=True)
    assert resp.status_int == 202, resp.text
    rid = resp.json["reservation_id"]
    insts = [i for i in conductor.servers.values() if i.reservation_id == rid]
    assert sorted(i.display_name for i in insts) == ["web-1", "web-2", "web-3"]
    assert sorted(i.launch_index for i in insts) == [0, 1, 2]
    assert conductor.request_specs[0].num_instances == 3


def test_create_latest_needs_networks(client, image_id):
    body = {"server": {"name": "web", "imageRef": image_id, "flavorRef": "1"}}
    resp = client.post("/v2.1/servers", body, token=ALICE, version=MAX)
    assert resp.status_int == 400
    for nets in ("none", "auto"):
        body["server"]["networks"] = nets
        assert client.post("/v2.1/servers", body, token=ALICE, version=MAX).status_int == 202
    body["server"]["networks"] = [{"uuid": "0cb5bd3c-8a3b-4b2f-9c1e-2b1f3b9d7c11"}]
    resp = client.post("/v2.1/servers", body, token=ALICE, version=MAX)
    assert resp.status_int == 400
    assert "Networking is not available" in resp.json["badRequest"]["message"]


def test_create_description_and_hostname(client, conductor, image_id):
    resp = _create(client, image_id, version=MAX, description="hello", hostname="h1")
    assert resp.status_int == 202, resp.text
    inst = conductor.servers[resp.json["server"]["id"]]
    assert inst.display_description == "hello" and inst.hostname == "h1"
    # description is unknown before 2.19
    assert _create(client, image_id, version="2.18", description="x").status_int == 400


@pytest.mark.parametrize("server, message", [
    ({"name": ""}, "name"),
    ({"name": " lead"}, "name"),
    ({"name": "trail "}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"name": 5}, "name"),
    ({"flavorRef": "nope"}, "Flavor nope could not be found."),
    ({"imageRef": "6c2ab9b5-ae1f-45d2-bbf0-42bd57d0f54c"}, "Can not find requested image"),
    ({"imageRef": "not-a-uuid"}, "Can not find requested image"),
    ({"bogus": 1}, "Additional properties are not allowed"),
    ({"min_count": 0}, "min_count"),
    ({"min_count": 3, "max_count": 2}, "min_count must be <= max_count"),
    ({"max_count": "x"}, "max_count"),
    ({"metadata": {"k": 1}}, "metadata"),
    ({"user_data": "not base64!"}, "user_data"),
    ({"accessIPv4": "1.2.3"}, "accessIPv4"),
    ({"key_name": "k"}, "key_name"),
    ({"availability_zone": "mars"}, "availability zone"),
    ({"block_device_mapping_v2": [{"boot_index": 0}]}, "Block Device Mapping is Invalid"),
])
def test_create_invalid(client, image_id, server, message):
    resp = _create(client, image_id, **server)
    assert resp.status_int == 400, resp.text
    assert message in resp.json["badRequest"]["message"]


def test_create_with_the_root_image_as_bdm(client, conductor, image_id):
    """openstackclient sends the image again as a local boot_index 0 mapping."""
    bdm = {"uuid": image_id, "boot_index": 0, "source_type": "image",
           "destination_type": "local", "delete_on_termination": True}
    resp = _create(client, image_id, block_device_mapping_v2=[bdm])
    assert resp.status_int == 202, resp.text
    assert conductor.servers[resp.json["server"]["id"]].image_ref == image_id
    for other in ({**bdm, "destination_type": "volume"}, {**bdm, "boot_index": 1}):
        resp = _create(client, image_id, block_device_mapping_v2=[other])
        assert resp.status_int == 400, other
    resp = _create(client, image_id, block_device_mapping_v2=[bdm, {**bdm, "boot_index": 1}])
    assert resp.status_int == 400


def test_create_missing_name(client, image_id):
    body = {"server": {"imageRef": image_id, "flavorRef": "1"}}
    resp = client.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 400
    assert "'name' is a required property" in resp.json["badRequest"]["message"]


@pytest.mark.parametrize("body", [{}, [], "x", {"server": None}, {"server": {}}, None])
def test_create_bad_bodies(client, body):
    resp = client.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 400


def test_create_forced_host_is_admin_only(client, conductor, image_id):
    conductor.add_compute("c1")  # so that zone "nova" exists
    assert _create(client, image_id, availability_zone="nova:c1").status_int == 403
    assert _create(client, image_id, token="admin:admin",
                   availability_zone="nova:c1").status_int == 202


# -- show -------------------------------------------------------------------------------

BASE_KEYS = {"id", "name", "status", "tenant_id", "user_id", "metadata", "hostId", "image",
             "flavor", "created", "updated", "addresses", "accessIPv4", "accessIPv6",
             "links", "OS-DCF:diskConfig"}
EXTENDED_KEYS = {"OS-EXT-AZ:availability_zone", "config_drive", "key_name",
                 "OS-SRV-USG:launched_at", "OS-SRV-USG:terminated_at", "OS-EXT-STS:vm_state",
                 "OS-EXT-STS:task_state", "OS-EXT-STS:power_state",
                 "os-extended-volumes:volumes_attached"}
ADMIN_21 = {"OS-EXT-SRV-ATTR:host", "OS-EXT-SRV-ATTR:hypervisor_hostname",
            "OS-EXT-SRV-ATTR:instance_name"}
ADMIN_23 = ADMIN_21 | {"OS-EXT-SRV-ATTR:reservation_id", "OS-EXT-SRV-ATTR:launch_index",
                       "OS-EXT-SRV-ATTR:hostname", "OS-EXT-SRV-ATTR:kernel_id",
                       "OS-EXT-SRV-ATTR:ramdisk_id", "OS-EXT-SRV-ATTR:root_device_name",
                       "OS-EXT-SRV-ATTR:user_data"}
MAX_EXTRA = {"locked", "description", "tags", "trusted_image_certificates", "locked_reason",
             "server_groups", "OS-EXT-SRV-ATTR:hostname", "pinned_availability_zone",
             "scheduler_hints"}


def test_show_21_member(client, conductor, image_id):
    inst = conductor.add_server(image_ref=image_id)
    resp = client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE)
    assert resp.status_int == 200
    s = resp.json["server"]
    assert set(s) == BASE_KEYS | EXTENDED_KEYS | {"progress"}
    assert s["status"] == "ACTIVE" and s["progress"] == 0
    assert s["flavor"] == {"id": "1", "links": [
        {"rel": "bookmark", "href": "http://localhost/flavors/1"}]}
    assert s["image"]["id"] == image_id
    assert s["created"].endswith("Z") and s["updated"].endswith("Z")
    assert len(s["hostId"]) == 56
    assert s["OS-EXT-STS:vm_state"] == "active"
    assert s["OS-EXT-STS:power_state"] == 1
    assert s["links"][0]["href"] == f"http://localhost/v2.1/servers/{inst.uuid}"


def test_show_21_admin_has_extended_attrs(client, conductor):
    inst = conductor.add_server()
    s = client.get(f"/v2.1/servers/{inst.uuid}").json["server"]
    assert ADMIN_21 <= set(s)
    assert not (ADMIN_23 - ADMIN_21) & set(s)
    assert s["OS-EXT-SRV-ATTR:host"] == "c1"
    assert s["OS-EXT-SRV-ATTR:instance_name"] == "instance-00000001"
    s = client.get(f"/v2.1/servers/{inst.uuid}", version="2.3").json["server"]
    assert ADMIN_23 <= set(s)


def test_show_max_member(client, conductor, image_id):
    inst = conductor.add_server(image_ref=image_id, system_metadata={
        "image_os_distro": "cirros", "image_min_ram": "0", "image_base_image_ref": image_id})
    s = client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE, version=MAX).json["server"]
    assert set(s) == BASE_KEYS | EXTENDED_KEYS | MAX_EXTRA | {"progress"}
    assert s["flavor"] == {"vcpus": 1, "ram": 512, "disk": 1, "ephemeral": 0, "swap": 0,
                           "original_name": "m1.tiny", "extra_specs": {}}
    assert s["image"]["properties"] == {"os_distro": "cirros"}
    assert s["tags"] == [] and s["server_groups"] == [] and s["locked"] is False


def test_show_max_admin(client, conductor):
    conductor.add_compute("c1")
    inst = conductor.add_server()
    s = client.get(f"/v2.1/servers/{inst.uuid}", version=MAX).json["server"]
    assert ADMIN_23 <= set(s)
    assert s["host_status"] == "UP"


def test_show_is_one_conductor_call_with_its_groups_and_host_status(client, conductor):
    """What the newest show adds (server_groups, host_status) comes with the server:
    a client polling a server costs one conductor call per GET, not three."""
    conductor.add_compute("c1")
    conductor.add_compute("c2", disabled=True)
    on_c1, on_c2 = conductor.add_server(host="c1"), conductor.add_server(host="c2")
    group = client.post("/v2.1/os-server-groups", {"server_group": {
        "name": "g", "policies": ["affinity"]}}).json["server_group"]
    conductor.groups[group["id"]].members.append(on_c1.uuid)
    conductor.calls.clear()
    s = client.get(f"/v2.1/servers/{on_c1.uuid}", version=MAX).json["server"]
    assert (s["server_groups"], s["host_status"]) == ([group["id"]], "UP")
    assert conductor.calls == ["server_get"]
    s = client.get(f"/v2.1/servers/{on_c2.uuid}", version=MAX).json["server"]
    assert (s["server_groups"], s["host_status"]) == ([], "MAINTENANCE")
    conductor.services[0].forced_down = True
    s = client.get(f"/v2.1/servers/{on_c1.uuid}", version="2.16").json["server"]
    assert s["host_status"] == "DOWN" and "server_groups" not in s


def test_show_building_server_without_cell(client, conductor):
    inst = conductor.add_server(vm_state=states.BUILDING, task_state=states.SCHEDULING,
                                host=None)
    s = client.get(f"/v2.1/servers/{inst.uuid}", version=MAX).json["server"]
    assert s["status"] == "BUILD" and s["hostId"] == "" and s["host_status"] == ""
    assert s["image"] == ""  # no image_ref: boot from volume style


def test_show_fault(client, conductor):
    fault = InstanceFault(code=500, message="No valid host", details="trace",
                          host=None, created_at=utcnow())
    inst = conductor.add_server(vm_state=states.ERROR, fault=fault)
    s = client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE).json["server"]
    assert s["status"] == "ERROR" and "progress" not in s
    assert s["fault"]["code"] == 500 and s["fault"]["message"] == "No valid host"
    assert "details" not in s["fault"]
    s = client.get(f"/v2.1/servers/{inst.uuid}").json["server"]
    assert s["fault"]["details"] == "trace"


def test_other_projects_server_is_404(client, conductor):
    inst = conductor.add_server(project_id="proj-b")
    for method in ("GET", "DELETE"):
        resp = client.request(method, f"/v2.1/servers/{inst.uuid}", token=ALICE)
        assert resp.status_int == 404
        assert "itemNotFound" in resp.json
    resp = client.put(f"/v2.1/servers/{inst.uuid}", {"server": {"name": "x"}}, token=ALICE)
    assert resp.status_int == 404
    assert client.get(f"/v2.1/servers/{inst.uuid}", token=BOB).status_int == 200


def test_show_missing_is_404(client):
    resp = client.get("/v2.1/servers/8c2ab9b5-ae1f-45d2-bbf0-42bd57d0f54c")
    assert resp.status_int == 404
    assert resp.json["itemNotFound"]["code"] == 404


# -- list -------------------------------------------------------------------------------

def test_list_index_and_detail(client, conductor):
    a = conductor.add_server(name="a")
    conductor.add_server(name="b", project_id="proj-b")
    resp = client.get("/v2.1/servers", token=ALICE)
    assert resp.json == {"servers": [{"id": a.uuid, "name": "a", "links": [
        {"rel": "self", "href": f"http://localhost/v2.1/servers/{a.uuid}"},
        {"rel": "bookmark", "href": f"http://localhost/servers/{a.uuid}"}]}]}
    detail = client.get("/v2.1/servers/detail", token=ALICE, version=MAX).json["servers"]
    assert [s["id"] for s in detail] == [a.uuid]
    assert "server_groups" not in detail[0]  # show/update only
    assert "OS-EXT-SRV-ATTR:host" not in detail[0]


def test_list_all_tenants(client, conductor):
    conductor.add_server(name="a")
    conductor.add_server(name="b", project_id="proj-b")
    assert len(client.get("/v2.1/servers").json["servers"]) == 0  # admin's own project
    assert len(client.get("/v2.1/servers?all_tenants=1").json["servers"]) == 2
    assert len(client.get("/v2.1/servers/detail?all_tenants").json["servers"]) == 2
    resp = client.get("/v2.1/servers?all_tenants=1&project_id=proj-b")
    assert [s["name"] for s in resp.json["servers"]] == ["b"]
    assert client.get("/v2.1/servers?all_tenants=1", token=ALICE).status_int == 403
    assert client.get("/v2.1/servers?all_tenants=maybe").status_int == 400


def test_list_filters(client, conductor, image_id):
    conductor.add_server(name="web-1", image_ref=image_id)
    conductor.add_server(name="db-1", vm_state=states.STOPPED, host="c2")
    conductor.add_server(name="web-2", vm_state=states.ACTIVE, task_state=states.REBOOTING)

    def names(query, token=ALICE, version=None):
        resp = client.get(f"/v2.1/servers/detail?{query}", token=token, version=version)
        assert resp.status_int == 200, resp.text
        return sorted(s["name"] for s in resp.json["servers"])

    assert names("name=web") == ["web-1", "web-2"]
    assert names("name=^db") == ["db-1"]
    assert names("status=SHUTOFF") == ["db-1"]
    assert names("status=REBOOT") == ["web-2"]
    assert names("status=active&status=shutoff") == ["db-1", "web-1", "web-2"]
    assert names(f"image={image_id}") == ["web-1"]
    assert names("flavor=1") == ["db-1", "web-1", "web-2"]
    assert names("flavor=2") == []
    assert names("host=c2") == ["db-1", "web-1", "web-2"]  # host is admin-only: ignored
    assert names("all_tenants=1&host=c2", token="admin:admin") == ["db-1"]
    assert names("changes-since=2000-01-01T00:00:00Z") == ["db-1", "web-1", "web-2"]
    assert names("changes-since=2999-01-01T00:00:00Z") == []
    assert names("status=BOGUS", version="2.37") == []
    resp = client.get("/v2.1/servers?status=BOGUS", token=ALICE, version="2.38")
    assert resp.status_int == 400
    assert client.get("/v2.1/servers?changes-since=notadate", token=ALICE).status_int == 400


def test_list_unknown_query_params(client):
    assert client.get("/v2.1/servers?foo=1", token=ALICE, version="2.74").status_int == 200
    resp = client.get("/v2.1/servers?foo=1", token=ALICE, version="2.75")
    assert resp.status_int == 400


def test_list_pagination(client, conductor):
    made = [conductor.add_server(name=f"s{n}") for n in range(5)]
    newest_first = [i.uuid for i in reversed(made)]
    resp = client.get("/v2.1/servers?limit=2", token=ALICE)
    body = resp.json
    assert [s["id"] for s in body["servers"]] == newest_first[:2]
    nxt = body["servers_links"][0]
    assert nxt["rel"] == "next"
    assert f"marker={newest_first[1]}" in nxt["href"] and "limit=2" in nxt["href"]
    path = nxt["href"].replace("http://localhost", "")
    body = client.get(path, token=ALICE).json
    assert [s["id"] for s in body["servers"]] == newest_first[2:4]
    body = client.get(f"/v2.1/servers?marker={newest_first[3]}", token=ALICE).json
    assert [s["id"] for s in body["servers"]] == newest_first[4:]
    assert "servers_links" not in body
    # paging also works when filters are applied in the API
    body = client.get("/v2.1/servers?name=s&limit=3", token=ALICE).json
    assert [s["id"] for s in body["servers"]] == newest_first[:3]
    assert client.get("/v2.1/servers?limit=-1", token=ALICE).status_int == 400
    assert client.get("/v2.1/servers?limit=abc", token=ALICE).status_int == 400
    resp = client.get("/v2.1/servers?marker=nope", token=ALICE)
    assert resp.status_int == 400


def test_list_deleted_admin_only(client, conductor):
    inst = conductor.add_server(name="gone")
    conductor.server_delete(None, inst.uuid)
    assert client.get("/v2.1/servers?deleted=true", token=ALICE).json["servers"] == []
    body = client.get("/v2.1/servers/detail?deleted=true&all_tenants=1").json
    assert [s["status"] for s in body["servers"]] == ["DELETED"]


def test_list_deleted_false_is_the_plain_listing(client, conductor):
    alive = conductor.add_server(name="alive")
    gone = conductor.add_server(name="gone")
    conductor.server_delete(None, gone.uuid)
    body = client.get("/v2.1/servers/detail?deleted=False&all_tenants=1&limit=5").json
    assert [s["id"] for s in body["servers"]] == [alive.uuid]
    body = client.get("/v2.1/servers/detail?deleted=true&all_tenants=1").json
    assert [s["id"] for s in body["servers"]] == [gone.uuid]


def test_list_calls_conductor_once(client, conductor):
    for n in range(10):
        conductor.add_server(name=f"s{n}")
    conductor.calls.clear()
    client.get("/v2.1/servers/detail", token=ALICE, version=MAX)
    assert conductor.calls == ["server_list_rows"]


def _count_conductor_calls(conductor, monkeypatch) -> collections.Counter:
    """Count every call the API makes to the conductor (each one an RPC round trip)."""
    counts: collections.Counter = collections.Counter()
    for name in dir(conductor):
        method = getattr(conductor, name)
        if name.startswith("_") or not callable(method) or name == "add_server":
            continue

        def counted(*args, _name=name, _method=method, **kwargs):
            counts[_name] += 1
            return _method(*args, **kwargs)
        monkeypatch.setattr(conductor, name, counted)
    return counts


def test_detail_list_makes_as_many_conductor_calls_for_100_servers_as_for_1(
        client, conductor, image_id, monkeypatch):
    """The detailed list costs a fixed number of round trips, however many servers it
    shows (no call per server); its speed is measured by tools/bench, not asserted."""
    counts = _count_conductor_calls(conductor, monkeypatch)
    conductor.add_server(name="s0", image_ref=image_id)
    resp = client.get("/v2.1/servers/detail", token=ALICE, version=MAX)
    assert len(resp.json["servers"]) == 1
    one = dict(counts)
    counts.clear()
    for n in range(1, 100):
        conductor.add_server(name=f"s{n}", image_ref=image_id)
    resp = client.get("/v2.1/servers/detail", token=ALICE, version=MAX)
    assert len(resp.json["servers"]) == 100
    assert dict(counts) == one and sum(one.values()) <= 6, (one, dict(counts))


# -- update and delete ---------------------------------------------------------------------

def test_update_21_returns_reduced_view(client, conductor):
    inst = conductor.add_server()
    resp = client.put(f"/v2.1/servers/{inst.uuid}", {"server": {"name": "new"}}, token=ALICE)
    assert resp.status_int == 200
    s = resp.json["server"]
    assert s["name"] == "new" and conductor.servers[inst.uuid].display_name == "new"
    assert "OS-EXT-STS:vm_state" not in s and BASE_KEYS <= set(s)


def test_update_max(client, conductor):
    inst = conductor.add_server()
    body = {"server": {"name": "new", "description": "d", "hostname": "new-host"}}
    resp = client.put(f"/v2.1/servers/{inst.uuid}", body, token=ALICE, version=MAX)
    assert resp.status_int == 200, resp.text
    s = resp.json["server"]
    assert s["description"] == "d" and s["OS-EXT-SRV-ATTR:hostname"] == "new-host"
    assert "OS-EXT-STS:vm_state" in s and s["server_groups"] == []


@pytest.mark.parametrize("body", [
    {"server": {"name": ""}}, {"server": {"name": " x"}}, {"server": {"foo": 1}},
    {"server": {"description": "d"}}, {}, {"server": "x"},
])
def test_update_invalid(client, conductor, body):
    inst = conductor.add_server()
    resp = client.put(f"/v2.1/servers/{inst.uuid}", body, token=ALICE)
    assert resp.status_int == 400, resp.text
    assert "badRequest" in resp.json


def test_delete(client, conductor):
    inst = conductor.add_server()
    resp = client.delete(f"/v2.1/servers/{inst.uuid}", token=ALICE)
    assert resp.status_int == 204 and resp.body == b""
    assert conductor.servers[inst.uuid].deleted
    assert client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE).status_int == 404


def test_user_data_round_trip_for_admin(client, conductor, image_id):
    data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    resp = _create(client, image_id, user_data=data)
    sid = resp.json["server"]["id"]
    s = client.get(f"/v2.1/servers/{sid}", version="2.3").json["server"]
    assert s["OS-EXT-SRV-ATTR:user_data"] == data
    s = client.get(f"/v2.1/servers/{sid}", token=ALICE, version="2.3").json["server"]
    assert "OS-EXT-SRV-ATTR:user_data" not in s


# -- image checks at boot and image properties in the view -------------------------------

def _image(images, data: bytes = b"x" * 4096, **meta):
    image = images.create(None, {"name": "i", "disk_format": "raw", "visibility": "public",
                                 **meta})
    return images.upload(None, image["id"], [data])["id"] if data is not None \
        else image["id"]


def test_boot_image_properties_are_recorded_and_shown_from_298(client, conductor, images):
    image_id = _image(images, properties={"hw_disk_bus": "virtio", "os_distro": "debian"},
                      min_ram=64)
    resp = _create(client, image_id, version="2.98")
    assert resp.status_int == 202, resp.text
    inst = conductor.servers[resp.json["server"]["id"]]
    assert inst.system_metadata == {
        "image_hw_disk_bus": "virtio", "image_os_distro": "debian", "image_min_ram": "64",
        "image_min_disk": "0", "image_disk_format": "raw", "image_container_format": "bare",
        "image_base_image_ref": image_id}
    # Later changes to the image do not change what the server was booted with.
    images.update(None, image_id, {"os_distro": "changed"}, remove=["hw_disk_bus"])
    s = client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE, version="2.98").json
    assert s["server"]["image"]["properties"] == {"hw_disk_bus": "virtio",
                                                  "os_distro": "debian"}
    s = client.get(f"/v2.1/servers/{inst.uuid}", token=ALICE, version="2.97").json
    assert "properties" not in s["server"]["image"]


@pytest.mark.parametrize("meta, data, message", [
    ({"min_ram": 1024}, b"x", "Flavor's memory is too small for requested image."),
    ({"min_disk": 2}, b"x", "Flavor's disk is smaller than the minimum size specified in "
                            "image metadata. Flavor disk is 1073741824 bytes, minimum size "
                            "is 2147483648 bytes."),
    ({}, None, "is not active."),
    ({"disk_format": "aki", "container_format": "aki"}, b"x",
     "is a kernel or ramdisk image"),
    ({"properties": {"kernel_id": "6c2ab9b5-ae1f-45d2-bbf0-42bd57d0f54c"}}, b"x",
     "Can not find requested image"),
    ({"properties": {"hw_disk_bus": "floppy"}}, b"x",
     "Image property 'hw_disk_bus' has an invalid value 'floppy'."),
])
def test_boot_checks_of_the_image(client, images, meta, data, message):
    resp = _create(client, _image(images, data, **meta))
    assert resp.status_int == 400 and message in resp.json["badRequest"]["message"]


def test_image_larger_than_the_flavor_disk_is_refused(client, images, conductor):
    image_id = _image(images)
    image = images.show(None, image_id)
    image["size"] = 2 * 1024 ** 3  # as Glance would report a 2 GiB image
    images._write(image)
    resp = _create(client, image_id)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "Flavor's disk is too small for requested image. Flavor disk is 1073741824 bytes, "
        "image is 2147483648 bytes.")


def test_private_image_of_another_project_is_refused(client, images):
    from nova_lite.context import RequestContext

    bob = RequestContext(user_id="bob", project_id="proj-b")
    image = images.create(bob, {"name": "bobs", "disk_format": "raw"})
    images.upload(bob, image["id"], [b"x"])
    resp = _create(client, image["id"], token=ALICE)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == "Can not find requested image"
    assert _create(client, image["id"], token=BOB).status_int == 202
