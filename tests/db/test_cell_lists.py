"""Server lists merged across two cells (and build requests): every sort order pages
through markers to the same sequence as one global sort, and a cell whose database is
down gives minimal records, is skipped, or fails the list, as the caller asks."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Callable

import pytest

from nova_lite import context, exception
from nova_lite.conductor import server_rows
from nova_lite.conductor.cells import CellDirectory
from nova_lite.conductor.manager import ConductorManager
from nova_lite.conductor.server_lists import ServerListMixin
from nova_lite.db import cells as cells_db
from nova_lite.db import instance_paging
from nova_lite.objects.request_spec import RequestSpec
from tests.db.test_cells_instances import create_instance, map_to_cell, new_instance

CLOSED_PORT_URL = "mysql+pymysql://root@127.0.0.1:9/nova_cell_down?charset=utf8mb4"
T0 = datetime(2026, 1, 1, 12, 0, 0)


class _Lists(ServerListMixin):
    server_get = ConductorManager.server_get
    _server = ConductorManager._server

    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)


def _spec(inst) -> RequestSpec:
    return RequestSpec(instance_uuid=inst.uuid, project_id=inst.project_id,
                       user_id="u1", flavor=inst.flavor, image_id="img-1",
                       availability_zone="az1", num_instances=1, ignore_hosts=[],
                       force_hosts=[])


def _boot(api_url: str, cell: dict, n: int, **values) -> str:
    """A server created in ``cell`` (None: still a build request)."""
    inst = new_instance(created_at=T0 + timedelta(seconds=n // 2), **values)
    cells_db.build_request_create(api_url, inst.uuid, inst.project_id, "u1",
                                  inst.obj_to_primitive(), _spec(inst).obj_to_primitive())
    if cell is not None:
        create_instance(cell["database_connection"], inst, cell["name"])
        map_to_cell(api_url, inst.uuid, cell["uuid"])
        cells_db.build_request_delete(api_url, inst.uuid)
    return inst.uuid


@pytest.fixture
def two_cells(api_url: str, mapped_cells: dict,
              migrated_db: Callable[[str], str]) -> dict:
    cell1 = cells_db.cell_list(api_url)[1]
    cell2 = cells_db.cell_create(api_url, "cell2", "rabbit://h/cell2", migrated_db("main"))
    names = ["b", "a", None, "c", "a", "d", "e", "b", "f"]
    made = []
    for n, name in enumerate(names):
        where = (cell1, cell2, None)[n % 3] if n < 8 else cell2
        made.append(_boot(api_url, where, n, display_name=name,
                          launch_index=n % 4, project_id="p1" if n != 7 else "p2"))
    return {"api": api_url, "cell1": cell1, "cell2": cell2, "uuids": made}


def _pages(lists: _Lists, limit: int, sort=None, project_id=None, **kw) -> list[str]:
    ctx = context.get_admin_context()
    out: list[str] = []
    marker = None
    while True:
        page = lists.server_list(ctx, project_id, {}, limit, marker, sort=sort, **kw)
        out += [i.uuid for i in page]
        assert len(page) <= limit
        if len(page) < limit:
            return out
        marker = page[-1].uuid


@pytest.mark.parametrize("sort", [
    None,
    [["display_name", False]],
    [["display_name", True], ["created_at", False]],
    [["launch_index", False], ["display_name", True]],
], ids=["default", "name-asc", "name-desc-created-asc", "index-asc-name-desc"])
def test_pages_across_cells_follow_one_global_order(two_cells: dict, sort) -> None:
    lists = _Lists(two_cells["api"])
    everything = lists.server_list(context.get_admin_context(), None, {}, None, None,
                                   sort=sort)
    assert sorted(i.uuid for i in everything) == sorted(two_cells["uuids"])
    order = instance_paging.normalize([tuple(s) for s in sort or ()])
    assert [i.uuid for i in everything] == [
        i.uuid for i in sorted(everything, key=instance_paging.sort_key(order))]
    assert {i.get("cell_name") for i in everything} == {"cell1", "cell2", None}
    for limit in (1, 2, 4):
        assert _pages(lists, limit, sort) == [i.uuid for i in everything]


def test_filters_and_projects_apply_in_every_cell(two_cells: dict) -> None:
    lists = _Lists(two_cells["api"])
    ctx = context.get_admin_context()
    p2 = lists.server_list(ctx, "p2", {}, None, None)
    assert [i.uuid for i in p2] == [two_cells["uuids"][7]]
    some = two_cells["uuids"][:4]
    assert {i.uuid for i in lists.server_list(ctx, None, {"uuids": some}, None, None)} \
        == set(some)
    with pytest.raises(exception.Invalid, match="marker"):
        lists.server_list(ctx, None, {}, 2, str(uuid.uuid4()))
    with pytest.raises(exception.Invalid):
        lists.server_list(ctx, None, {}, 2, None, sort=[["flavor", True]])


def _cut_cell2(two_cells: dict) -> _Lists:
    from nova_lite.db import api_models
    from nova_lite.db import engine as db_engine
    import sqlalchemy as sa

    with db_engine.session_scope(two_cells["api"]) as session:
        session.execute(sa.update(api_models.CellMapping).where(
            api_models.CellMapping.uuid == two_cells["cell2"]["uuid"]).values(
            database_connection=CLOSED_PORT_URL))
    return _Lists(two_cells["api"])


def test_a_down_cell_gives_minimal_records_or_is_skipped_or_fails(two_cells: dict) -> None:
    lists = _cut_cell2(two_cells)
    ctx = context.get_admin_context()
    uuids = two_cells["uuids"]
    in_cell2 = {uuids[n] for n in (1, 4, 8)} | {uuids[7]}
    up = set(uuids) - in_cell2

    skipped = lists.server_list(ctx, None, {}, None, None)
    assert {i.uuid for i in skipped} == up

    with_minimal = lists.server_list(ctx, None, {}, None, None, down_cells="minimal")
    assert {i.uuid for i in with_minimal} == set(uuids)
    minimal = [i for i in with_minimal if not i.obj_attr_is_set("vm_state")]
    assert {i.uuid for i in minimal} == in_cell2
    assert all(i.cell_name == "cell2" and i.created_at is not None for i in minimal)
    # The live servers come first, whole; the page limit counts both.
    assert with_minimal[:len(up)] == skipped
    assert len(lists.server_list(ctx, None, {}, len(up) + 1, None,
                                 down_cells="minimal")) == len(up) + 1
    assert {i.uuid for i in lists.server_list(ctx, "p2", {}, None, None,
                                               down_cells="minimal")} == {uuids[7]}

    with pytest.raises(exception.CellsUnavailable) as err:
        lists.server_list(ctx, None, {}, None, None, down_cells="error")
    assert err.value.code == 500 and two_cells["cell2"]["uuid"] in str(err.value)

    # One server of the down cell: 503 unless the caller takes a minimal record.
    with pytest.raises(exception.DatabaseUnavailable):
        lists.server_get(ctx, uuids[1])
    one = lists.server_get(ctx, uuids[1], down_cell_minimal=True)
    assert not one.obj_attr_is_set("vm_state")
    assert (one.uuid, one.project_id, one.user_id, one.image_ref, one.availability_zone,
            one.power_state, one.flavor.flavorid) == (
        uuids[1], "p1", "u1", "img-1", "az1", 0, "42")
    # Servers of cells that answer are read whole either way.
    assert lists.server_get(ctx, uuids[0], down_cell_minimal=True).vm_state == "building"


def test_services_of_a_down_cell_are_its_mapped_computes_when_asked(two_cells: dict) -> None:
    from nova_lite.db import services as svc_db

    for cell, host in ((two_cells["cell1"], "h1"), (two_cells["cell2"], "h2")):
        svc_db.service_heartbeat(cell["database_connection"], host, "nova-compute", "compute")
        cells_db.host_mapping_create(two_cells["api"], host, cell["uuid"])
    lists = _cut_cell2(two_cells)
    lists.service_list = ConductorManager.service_list.__get__(lists)
    ctx = context.get_admin_context()
    assert [s.host for s in lists.service_list(ctx)] == ["h1"]
    services = lists.service_list(ctx, down_cell_minimal=True)
    assert [(s.host, s.binary, s.obj_attr_is_set("id")) for s in services] == [
        ("h1", "nova-compute", True), ("h2", "nova-compute", False)]
    assert lists.service_list(ctx, binary="nova-conductor", down_cell_minimal=True) == []
    assert [s.host for s in lists.service_list(ctx, host="h2", down_cell_minimal=True)] \
        == ["h2"]


def test_volume_mappings_of_listed_servers_pass_over_a_down_cell(two_cells: dict) -> None:
    lists = _cut_cell2(two_cells)
    uuids = two_cells["uuids"]
    bdms = ConductorManager.bdm_list_by_instances.__get__(lists)(None, uuids[:2])
    assert bdms == {uuids[0]: [], uuids[1]: []}


def _row_pages(lists: _Lists, limit: int, sort=None) -> list[str]:
    ctx = context.get_admin_context()
    out: list[str] = []
    marker = None
    while True:
        page = json.loads(lists.server_list_rows(ctx, None, {}, limit, marker, sort=sort))
        out += [r["uuid"] for r in page]
        if len(page) < limit:
            return out
        marker = page[-1]["uuid"]


@pytest.mark.parametrize("sort", [None, [["display_name", False]],
                                  [["launch_index", False], ["display_name", True]]],
                         ids=["default", "name-asc", "index-asc-name-desc"])
def test_rows_page_across_cells_as_the_instances_do(two_cells: dict, sort) -> None:
    """The lean list (plain rows) is the same merged list, in the same order, with the
    same values as the list of Instances, times as UTC text."""
    lists = _Lists(two_cells["api"])
    ctx = context.get_admin_context()
    instances = lists.server_list(ctx, None, {}, None, None, sort=sort)
    rows = json.loads(lists.server_list_rows(ctx, None, {}, None, None, sort=sort))
    assert [r["uuid"] for r in rows] == [i.uuid for i in instances]
    packed = lists.server_list_rows(ctx, None, {}, None, None, sort=sort, packed=True)
    assert server_rows.unpack(packed) == rows
    for inst, row in zip(instances, rows):
        assert (row["display_name"], row["launch_index"], row["cell_name"],
                row["flavor"]["flavorid"], row["volumes_attached"]) == (
            inst.display_name, inst.launch_index, inst.get("cell_name"),
            inst.flavor.flavorid, [])
        created = inst.created_at.replace(tzinfo=None)
        assert row["created_at"] == created.isoformat(timespec="microseconds")
    for limit in (1, 2, 4):
        assert _row_pages(lists, limit, sort) == [i.uuid for i in instances]
    index_rows = json.loads(lists.server_list_rows(
        ctx, None, {"uuids": two_cells["uuids"][:4]}, None, None, detail=False))
    assert {r["uuid"] for r in index_rows} == set(two_cells["uuids"][:4])
    assert all("flavor" not in r and "vm_state" in r for r in index_rows)


def test_rows_of_a_down_cell_are_minimal_or_skipped(two_cells: dict) -> None:
    lists = _cut_cell2(two_cells)
    ctx = context.get_admin_context()
    uuids = two_cells["uuids"]
    in_cell2 = {uuids[n] for n in (1, 4, 8)} | {uuids[7]}
    skipped = json.loads(lists.server_list_rows(ctx, None, {}, None, None))
    assert {r["uuid"] for r in skipped} == set(uuids) - in_cell2
    rows = json.loads(lists.server_list_rows(ctx, None, {}, None, None,
                                             down_cells="minimal"))
    minimal = [r for r in rows if "vm_state" not in r]
    assert {r["uuid"] for r in minimal} == in_cell2
    assert all(set(r) == {"uuid", "project_id", "user_id", "created_at", "cell_name"}
               and isinstance(r["created_at"], str) for r in minimal)
    with pytest.raises(exception.CellsUnavailable):
        lists.server_list_rows(ctx, None, {}, None, None, down_cells="error")
