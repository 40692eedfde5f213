"""Microversion 2.69: servers of a cell whose database is down, as Nova shows them."""

from __future__ import annotations

import datetime

import webob

from nova_lite import exception
from nova_lite.objects.instance import Instance
from tests.unit.api.conftest import ADMIN, ALICE

CREATED = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)


def _minimal(conductor, project_id: str = "proj-a") -> Instance:
    flavor = conductor.flavors["1"]
    inst = Instance(uuid="5a1a6d5e-0000-4000-8000-000000000069", project_id=project_id,
                    user_id="alice", created_at=CREATED, cell_name="cell2")
    full = Instance(**dict(inst.to_dict(), image_ref="img-9", flavor=flavor,
                           availability_zone=None, power_state=0))
    real_list, real_get = conductor.server_list, conductor.server_get

    def server_list(ctx, project_id, filters, limit, marker, sort=None, down_cells="skip"):
        out = real_list(ctx, project_id, filters, limit, marker, sort, down_cells)
        return out + [inst] if down_cells == "minimal" else out

    def server_get(ctx, uuid, read_deleted=False, down_cell_minimal=False, **extras):
        if uuid != inst.uuid:
            return real_get(ctx, uuid, read_deleted, **extras)
        if not down_cell_minimal:
            raise exception.DatabaseUnavailable(reason="cell2 is down")
        return full

    conductor.server_list, conductor.server_get = server_list, server_get
    return inst


def test_lists_show_minimal_records_from_2_69(client, conductor) -> None:
    live = conductor.add_server(name="live")
    down = _minimal(conductor)
    body = client.get("/v2.1/servers", token=ALICE, version="2.69").json
    assert body["servers"][0]["name"] == "live"
    assert body["servers"][1] == {
        "id": down.uuid, "status": "UNKNOWN",
        "links": body["servers"][1]["links"]} and len(body["servers"][1]["links"]) == 2
    detail = client.get("/v2.1/servers/detail", token=ALICE, version="2.69").json
    assert detail["servers"][0]["id"] == live.uuid
    assert detail["servers"][1] == {
        "id": down.uuid, "status": "UNKNOWN", "tenant_id": "proj-a",
        "created": "2026-01-02T03:04:05Z", "links": detail["servers"][1]["links"]}
    assert conductor.last_list["down_cells"] == "minimal"
    admin = client.get("/v2.1/servers/detail?all_tenants=1&deleted=False",
                       version="2.69").json
    assert len(admin["servers"]) == 2


def test_filters_paging_sorting_or_older_versions_skip_the_down_cell(client, conductor
                                                                     ) -> None:
    conductor.add_server(name="live")
    _minimal(conductor)
    for path, version in (("/v2.1/servers", "2.68"), ("/v2.1/servers?limit=5", "2.69"),
                          ("/v2.1/servers?name=live", "2.69"),
                          ("/v2.1/servers/detail?sort_key=display_name", "2.69"),
                          ("/v2.1/servers?deleted=true&all_tenants=1", "2.69")):
        body = client.get(path, version=version).json
        assert [s.get("name") for s in body["servers"]] in (["live"], []), path
        assert conductor.last_list["down_cells"] == "skip", path


def test_skipping_down_cells_can_be_turned_off(client, conductor, conf) -> None:
    conductor.add_server(name="live")
    _minimal(conductor)
    conf.api.list_records_by_skipping_down_cells = False
    client.get("/v2.1/servers", version="2.68")
    assert conductor.last_list["down_cells"] == "error"
    # The conductor's CellsUnavailable is Nova's 500, in its fault format.
    conductor.server_list = lambda *a, **k: (_ for _ in ()).throw(
        exception.CellsUnavailable(cells="c2", reason="down"))
    resp = _raw(client, "/v2.1/servers", "2.68")
    assert resp.status_int == 500 and resp.json["computeFault"]["code"] == 500
    assert "c2" in resp.json["computeFault"]["message"]


def _raw(client, path: str, version: str, token: str = ADMIN) -> webob.Response:
    """A request whose answer may be a 5xx (the test client refuses those)."""
    req = webob.Request.blank(path)
    req.headers["X-Auth-Token"] = token
    req.headers["OpenStack-API-Version"] = f"compute {version}"
    return req.get_response(client.app)


def test_show_is_minimal_from_2_69(client, conductor) -> None:
    down = _minimal(conductor)
    body = client.get(f"/v2.1/servers/{down.uuid}", token=ALICE, version="2.71").json
    server = body["server"]
    assert server["status"] == "UNKNOWN" and server["tenant_id"] == "proj-a"
    assert server["user_id"] == "alice" and server["created"] == "2026-01-02T03:04:05Z"
    assert server["image"]["id"] == "img-9"
    assert server["flavor"]["vcpus"] == conductor.flavors["1"].vcpus
    assert server["OS-EXT-AZ:availability_zone"] == "UNKNOWN"
    assert server["OS-EXT-STS:power_state"] == 0 and server["server_groups"] == []
    assert "name" not in server and "addresses" not in server
    # Before 2.69 the server cannot be shown while its cell is down: 503.
    resp = _raw(client, f"/v2.1/servers/{down.uuid}", "2.68", token=ALICE)
    assert resp.status_int == 503 and "cell2 is down" in resp.text


def test_os_services_lists_computes_of_a_down_cell_from_2_69(client, conductor) -> None:
    from nova_lite.objects.service import Service

    conductor.add_compute("up-host")
    real = conductor.service_list

    def service_list(ctx, binary=None, host=None, down_cell_minimal=False):
        out = real(ctx, binary, host)
        if down_cell_minimal and binary in (None, "nova-compute"):
            out.append(Service(host="down-host", binary="nova-compute", cell_name="cell2"))
        return out

    conductor.service_list = service_list
    body = client.get("/v2.1/os-services", version="2.69").json["services"]
    assert {"binary": "nova-compute", "host": "down-host", "status": "UNKNOWN"} in body
    assert any(s["host"] == "up-host" and s["state"] == "up" for s in body)
    older = client.get("/v2.1/os-services", version="2.68").json["services"]
    assert [s["host"] for s in older] == ["up-host"]
