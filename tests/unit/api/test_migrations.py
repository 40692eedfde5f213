"""API of migration records: GET /os-migrations (fields per microversion, filters,
paging, changes-since/before, policy) and GET /servers/{id}/migrations[/{id}] (live
migrations in progress only, Nova's 404s)."""

from __future__ import annotations

import datetime

import pytest

from nova_lite.api import microversion
from tests.unit.api.conftest import ALICE

MAX = microversion.MAX_STR
BASE_FIELDS = {"created_at", "dest_compute", "dest_host", "dest_node", "id", "instance_uuid",
               "new_instance_type_id", "old_instance_type_id", "source_compute",
               "source_node", "status", "updated_at"}


@pytest.fixture
def moves(conductor):
    a, b = conductor.add_server(), conductor.add_server()
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    resize = conductor.add_migration(a.uuid, status="confirmed", source_compute="h1",
                                     dest_compute="h2", created_at=t0,
                                     updated_at=t0 + datetime.timedelta(hours=1))
    cold = conductor.add_migration(b.uuid, migration_type="migration", status="finished",
                                   source_compute="h2", dest_compute="h3",
                                   created_at=t0 + datetime.timedelta(days=1),
                                   user_id="u2", project_id="p2")
    live = conductor.add_migration(a.uuid, migration_type="live-migration",
                                   status="running", source_compute="h2",
                                   dest_compute="h1", memory_total=100,
                                   memory_processed=40, memory_remaining=60,
                                   created_at=t0 + datetime.timedelta(days=2))
    return {"a": a, "b": b, "resize": resize, "cold": cold, "live": live}


def ids(resp):
    return [m["id"] for m in resp.json["migrations"]]


def test_fields_by_microversion(client, moves):
    old = client.get("/v2.1/os-migrations", version="2.1").json["migrations"]
    assert [m["id"] for m in old] == [3, 2, 1]  # newest first
    assert set(old[0]) == BASE_FIELDS
    assert old[2]["created_at"] == "2026-01-01T00:00:00.000000"
    v23 = client.get("/v2.1/os-migrations", version="2.23").json["migrations"]
    assert set(v23[1]) == BASE_FIELDS | {"migration_type"}
    assert v23[1]["migration_type"] == "migration"
    # links only for a live migration in progress, to the server's migration
    assert v23[0]["links"][0]["href"].endswith(
        f"/v2.1/servers/{moves['a'].uuid}/migrations/3")
    assert {link["rel"] for link in v23[0]["links"]} == {"self", "bookmark"}
    v59 = client.get("/v2.1/os-migrations", version="2.59").json["migrations"]
    assert v59[1]["uuid"] == moves["cold"].uuid and "user_id" not in v59[1]
    v80 = client.get("/v2.1/os-migrations", version="2.80").json["migrations"]
    assert v80[1]["user_id"] == "u2" and v80[1]["project_id"] == "p2"


@pytest.mark.parametrize("query,expected", [
    ("host=h1", [3, 1]), ("host=h3", [2]), ("source_compute=h2", [3, 2]),
    ("status=finished", [2]), ("status=finished&status=confirmed", [2, 1]),
    ("migration_type=resize", [1]), ("hidden=0", [3, 2, 1]),
])
def test_filters(client, moves, query, expected):
    assert ids(client.get(f"/v2.1/os-migrations?{query}", version="2.23")) == expected


def test_instance_filter_and_unknown_params_before_2_59(client, moves):
    url = f"/v2.1/os-migrations?instance_uuid={moves['b'].uuid}&whatever=1"
    assert ids(client.get(url, version="2.58")) == [2]
    resp = client.get(url, version="2.59")
    assert resp.status_int == 400 and "whatever" in resp.json["badRequest"]["message"]


def test_user_and_project_filters_from_2_80(client, moves):
    assert ids(client.get("/v2.1/os-migrations?user_id=u2", version="2.80")) == [2]
    assert ids(client.get("/v2.1/os-migrations?project_id=p", version="2.80")) == [3, 1]
    assert client.get("/v2.1/os-migrations?user_id=u2", version="2.79").status_int == 400


def test_paging_from_2_59(client, moves):
    first = client.get("/v2.1/os-migrations?limit=2", version="2.59").json
    assert [m["id"] for m in first["migrations"]] == [3, 2]
    href = first["migrations_links"][0]["href"]
    assert "limit=2" in href and f"marker={moves['cold'].uuid}" in href
    rest = client.get(f"/v2.1/os-migrations?limit=2&marker={moves['cold'].uuid}",
                      version="2.59").json
    assert [m["id"] for m in rest["migrations"]] == [1] and "migrations_links" not in rest
    bad = client.get("/v2.1/os-migrations?marker=nope", version="2.59")
    assert bad.status_int == 400
    assert bad.json["badRequest"]["message"] == "Marker nope could not be found."
    assert client.get("/v2.1/os-migrations?limit=-1", version="2.59").status_int == 400
    assert client.get("/v2.1/os-migrations?limit=1&limit=2",
                      version="2.59").status_int == 400
    # before 2.59 there is no paging: limit is ignored
    assert len(ids(client.get("/v2.1/os-migrations?limit=1", version="2.58"))) == 3


def test_changes_since_and_before(client, moves):
    since = "/v2.1/os-migrations?changes-since=2026-01-02T00:00:00Z"
    assert ids(client.get(since, version="2.59")) == [3, 2]
    assert len(ids(client.get(since, version="2.58"))) == 3  # ignored before 2.59
    before = "/v2.1/os-migrations?changes-before=2026-01-01T01:00:00Z"
    assert ids(client.get(before, version="2.66")) == [1]
    assert client.get(before, version="2.65").status_int == 400  # unknown at 2.65
    both = ("/v2.1/os-migrations?changes-since=2026-01-03T00:00:00Z"
            "&changes-before=2026-01-02T00:00:00Z")
    resp = client.get(both, version="2.66")
    assert resp.status_int == 400 and "changes-since" in resp.json["badRequest"]["message"]
    sub = ("/v2.1/os-migrations?changes-since=2026-01-02T00:00:00.500000%2B01:00"
           "&changes-before=2026-01-01T23:00:00Z")  # the same instant, then half a second
    assert client.get(sub, version="2.66").status_int == 400
    assert client.get(sub.replace(".500000", ""), version="2.66").status_int == 200
    bad = client.get("/v2.1/os-migrations?changes-since=yesterday", version="2.59")
    assert bad.status_int == 400


def test_os_migrations_is_admin_only(client, moves):
    resp = client.get("/v2.1/os-migrations", token=ALICE)
    assert resp.status_int == 403
    assert "os_compute_api:os-migrations:index" in resp.json["forbidden"]["message"]


# -- /servers/{id}/migrations ---------------------------------------------------------

def test_server_migrations_list_only_live_in_progress(client, conductor, moves):
    a = moves["a"]
    body = client.get(f"/v2.1/servers/{a.uuid}/migrations", version="2.23").json
    assert [m["id"] for m in body["migrations"]] == [3]
    m = body["migrations"][0]
    assert m["server_uuid"] == a.uuid and m["memory_processed_bytes"] == 40
    assert m["memory_total_bytes"] == 100 and m["disk_total_bytes"] is None
    assert "uuid" not in m and "instance_uuid" not in m
    m80 = client.get(f"/v2.1/servers/{a.uuid}/migrations", version="2.80").json[
        "migrations"][0]
    assert m80["uuid"] == moves["live"].uuid and m80["project_id"] == "p"
    b = moves["b"]
    assert client.get(f"/v2.1/servers/{b.uuid}/migrations",
                      version="2.23").json == {"migrations": []}
    assert client.get(f"/v2.1/servers/{a.uuid}/migrations",
                      version="2.22").status_int == 404


def test_server_migration_show_and_its_404s(client, moves):
    a, b = moves["a"], moves["b"]
    shown = client.get(f"/v2.1/servers/{a.uuid}/migrations/3", version="2.23").json
    assert shown["migration"]["id"] == 3 and shown["migration"]["status"] == "running"
    cases = [(a.uuid, "1", "Migration 1 for server %s is not live-migration."),
             (a.uuid, "99", "In-progress live migration 99 is not found for server %s."),
             (a.uuid, "x", "In-progress live migration x is not found for server %s."),
             (b.uuid, "3", "In-progress live migration 3 is not found for server %s.")]
    for server, mid, message in cases:
        resp = client.get(f"/v2.1/servers/{server}/migrations/{mid}", version="2.23")
        assert resp.status_int == 404
        assert resp.json["itemNotFound"]["message"] == message % server
    moves["live"].status = "completed"
    resp = client.get(f"/v2.1/servers/{a.uuid}/migrations/3", version="2.23")
    assert resp.json["itemNotFound"]["message"] == (
        f"Live migration 3 for server {a.uuid} is not in progress.")


def test_server_migrations_policy_and_missing_server(client, moves):
    a = moves["a"]
    assert client.get(f"/v2.1/servers/{a.uuid}/migrations", version="2.23",
                      token=ALICE).status_int == 403
    assert client.get(f"/v2.1/servers/{a.uuid}/migrations/3", version="2.23",
                      token=ALICE).status_int == 403
    missing = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/v2.1/servers/{missing}/migrations",
                      version="2.23").status_int == 404
