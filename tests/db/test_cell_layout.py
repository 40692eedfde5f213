"""Which conductor is a cell conductor, and which message bus reaches a compute host."""

from __future__ import annotations

import types

from nova_lite.cmd import manage
from nova_lite.conductor.cells import CellDirectory
from nova_lite.db import cells as cells_db

TOP = "rabbit://guest:guest@127.0.0.1:5672/top"
C2 = "rabbit://guest:guest@127.0.0.1:5672/cell2"


def test_one_cell_on_the_top_bus_is_an_all_in_one_conductor(api_url: str,
                                                             mapped_cells: dict) -> None:
    cells = CellDirectory(api_url, mapped_cells["cell1"])
    # mapped_cells maps cell1 on "rabbit://h/": the conductor on that bus serves all.
    assert cells.serves_one_cell("rabbit://h/") is False
    assert cells.transport_url_of("nowhere") is None


def test_split_buses_make_cell_conductors(api_url: str, mapped_cells: dict,
                                          migrated_db) -> None:
    cell2_url = migrated_db("main")
    cell2 = cells_db.cell_create(api_url, "cell2", C2, cell2_url)
    cells_db.host_mapping_create(api_url, "h2", cell2["uuid"])
    cells_db.host_mapping_create(api_url, "h1", mapped_cells["cell1_uuid"])
    # cell2's conductor: its database, its own bus, another cell elsewhere.
    assert CellDirectory(api_url, cell2_url).serves_one_cell(C2) is True
    # The same database on the top bus is a super conductor (it also serves cell2).
    assert CellDirectory(api_url, cell2_url).serves_one_cell(TOP) is False
    # The super conductor with cell0 as [database], or with none of the cells.
    assert CellDirectory(api_url, mapped_cells["cell0"]).serves_one_cell(TOP) is False
    assert CellDirectory(api_url, None).serves_one_cell(TOP) is False
    routes = CellDirectory(api_url, None)
    assert routes.transport_url_of("h2") == C2
    assert routes.transport_url_of("h1") == "rabbit://h/"
    assert routes.transport_url_of("unmapped") is None


def _update(api_url: str, cell_uuid: str, **kw) -> int:
    args = dict(cell_uuid=cell_uuid, cell_name=None, cell_transport_url=None,
                cell_database_connection=None, enable=False, disable=False)
    args.update(kw)
    return manage._update_cell(api_url, types.SimpleNamespace(**args))


def test_update_cell_exit_codes(api_url: str, mapped_cells: dict, migrated_db) -> None:
    cell2_url = migrated_db("main")
    cell2 = cells_db.cell_create(api_url, "cell2", C2, cell2_url)
    assert _update(api_url, cell2["uuid"], enable=True, disable=True) == 4
    assert _update(api_url, cells_db.CELL0_UUID, disable=True) == 5
    assert _update(api_url, "5b1f0d0e-0000-4000-8000-00000000dead") == 1
    assert _update(api_url, cell2["uuid"], cell_transport_url="rabbit://h/",
                   cell_database_connection=mapped_cells["cell1"]) == 3
    assert _update(api_url, cell2["uuid"], cell_name="two", cell_transport_url=TOP,
                   cell_database_connection=cell2_url, disable=True) == 0
    cell = next(c for c in cells_db.cell_list(api_url) if c["uuid"] == cell2["uuid"])
    assert (cell["name"], cell["transport_url"], cell["disabled"]) == ("two", TOP, True)
    assert _update(api_url, cell2["uuid"], cell_transport_url=TOP,
                   cell_database_connection=cell2_url, enable=True) == 0
    assert cells_db.cell_list(api_url)[-1]["disabled"] is False


def test_the_hosts_of_a_disabled_cell_have_no_cell_for_the_scheduler(
        api_url: str, mapped_cells: dict, migrated_db) -> None:
    from nova_lite.conductor.manager import ConductorManager
    from nova_lite.db import placement
    from tests.db.test_placement import inv

    cell2 = cells_db.cell_create(api_url, "cell2", C2, migrated_db("main"))
    for host, cell_uuid in (("h1", mapped_cells["cell1_uuid"]), ("h2", cell2["uuid"])):
        cells_db.host_mapping_create(api_url, host, cell_uuid)
        placement.provider_ensure(api_url, host, host, cell_uuid, {"VCPU": inv(4)})
    conductor = ConductorManager.__new__(ConductorManager)
    conductor.api_url, conductor.cells = api_url, CellDirectory(api_url, None)
    assert {p.host: p.cell_uuid for p in conductor.provider_summaries(None)} == {
        "h1": mapped_cells["cell1_uuid"], "h2": cell2["uuid"]}
    cells_db.cell_update(api_url, cell2["uuid"], {"disabled": True})
    conductor.cells = CellDirectory(api_url, None)  # (its cache lasts CACHE_SECONDS)
    # No cell: the scheduler's filters pass over the host.
    assert {p.host: p.cell_uuid for p in conductor.provider_summaries(None)} == {
        "h1": mapped_cells["cell1_uuid"], "h2": None}
