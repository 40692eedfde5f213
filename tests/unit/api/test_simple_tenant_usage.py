"""os-simple-tenant-usage: hours from instance lifetimes (deleted ones too), shapes,
paging from 2.40, policy and bad input."""

from __future__ import annotations

import datetime

import pytest

from tests.unit.api.conftest import ALICE, BOB

U = "/v2.1/os-simple-tenant-usage"
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
WINDOW = "start=2026-01-01T00:00:00&end=2026-01-02T00:00:00"


@pytest.fixture
def servers(conductor):
    h = datetime.timedelta(hours=1)
    # lived 06:00-12:00 (deleted), running since 18:00 (6 h in the window), and one
    # launched before the window that is still running (24 h); one of proj-b
    a1 = conductor.add_server(name="gone", launched_at=T0 + 6 * h, terminated_at=T0 + 12 * h,
                              deleted=True, vm_state="deleted")
    a2 = conductor.add_server(name="up", launched_at=T0 + 18 * h)
    a3 = conductor.add_server(name="old", launched_at=T0 - 48 * h)
    b1 = conductor.add_server(project_id="proj-b", name="b", launched_at=T0)
    conductor.add_server(name="never", host=None, launched_at=None)  # never launched
    return a1, a2, a3, b1


def test_show_counts_lifetimes_within_the_window(client, servers):
    resp = client.get(f"{U}/proj-a?{WINDOW}", token=ALICE)
    assert resp.status_int == 200, resp.text
    usage = resp.json["tenant_usage"]
    assert usage["tenant_id"] == "proj-a"
    assert usage["total_hours"] == pytest.approx(6 + 6 + 24)
    assert usage["total_memory_mb_usage"] == pytest.approx(36 * 512)
    assert usage["total_vcpus_usage"] == pytest.approx(36)
    assert usage["total_local_gb_usage"] == pytest.approx(36)
    assert usage["start"] == "2026-01-01T00:00:00.000000"
    assert usage["stop"] == "2026-01-02T00:00:00.000000"
    by_name = {s["name"]: s for s in usage["server_usages"]}
    assert set(by_name) == {"gone", "up", "old"}
    gone = by_name["gone"]
    assert gone["state"] == "terminated" and gone["hours"] == pytest.approx(6)
    assert gone["ended_at"] == "2026-01-01T12:00:00.000000" and gone["uptime"] == 6 * 3600
    assert gone["flavor"] == "m1.tiny" and gone["memory_mb"] == 512 and gone["vcpus"] == 1
    assert by_name["up"]["state"] == "active" and by_name["up"]["ended_at"] is None


def test_index_is_admin_only_and_groups_by_project(client, servers):
    assert client.get(f"{U}?{WINDOW}", token=ALICE).status_int == 403
    usages = client.get(f"{U}?{WINDOW}").json["tenant_usages"]
    assert {u["tenant_id"] for u in usages} == {"proj-a", "proj-b"}
    assert all("server_usages" not in u for u in usages)
    detailed = client.get(f"{U}?{WINDOW}&detailed=1").json["tenant_usages"]
    assert all("server_usages" in u for u in detailed)


def test_another_project_is_forbidden_to_members(client, servers):
    assert client.get(f"{U}/proj-a?{WINDOW}", token=BOB).status_int == 403
    assert client.get(f"{U}/proj-a?{WINDOW}").status_int == 200


def test_paging_from_240(client, servers):
    page = client.get(f"{U}/proj-a?{WINDOW}&limit=2", token=ALICE, version="2.40").json
    assert len(page["tenant_usage"]["server_usages"]) == 2
    link = page["tenant_usage_links"][0]
    assert link["rel"] == "next" and "marker=" in link["href"] and "limit=2" in link["href"]
    marker = page["tenant_usage"]["server_usages"][-1]["instance_id"]
    rest = client.get(f"{U}/proj-a?{WINDOW}&limit=2&marker={marker}", token=ALICE,
                      version="2.40").json
    assert len(rest["tenant_usage"]["server_usages"]) == 1
    assert "tenant_usage_links" not in rest
    # below 2.40 limit and marker are not paging parameters
    old = client.get(f"{U}/proj-a?{WINDOW}&limit=1", token=ALICE).json
    assert len(old["tenant_usage"]["server_usages"]) == 3


def test_empty_usage(client):
    assert client.get(f"{U}/proj-a?{WINDOW}", token=ALICE).json == {"tenant_usage": {}}


@pytest.mark.parametrize("query,fragment", [
    ("start=2026-01-02T00:00:00&end=2026-01-01T00:00:00", "cannot occur after"),
    ("start=yesterday", "invalid format"),
    ("start=2026-01-01T00:00:00&marker=nope", "Marker nope could not be found"),
])
def test_bad_input_is_400(client, query, fragment):
    resp = client.get(f"{U}/proj-a?{query}", token=ALICE, version="2.40")
    assert resp.status_int == 400
    assert fragment in resp.json["badRequest"]["message"]


def test_unknown_query_parameter_from_275(client):
    assert client.get(f"{U}/proj-a?bogus=1", token=ALICE, version="2.75").status_int == 400
    assert client.get(f"{U}/proj-a?bogus=1", token=ALICE, version="2.74").status_int == 200
