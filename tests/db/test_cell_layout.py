"""Which conductor is a cell conductor, and which message bus reaches a compute host."""

from __future__ import annotations

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
