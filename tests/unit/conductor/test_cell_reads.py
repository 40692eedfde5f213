"""Reads across cells: a cell whose database is down is left out, but when no cell
answers the caller learns that the answer is unknown (not that there are no hosts)."""

import pytest

from nova_lite import exception
from nova_lite.conductor.manager import _from_cells

CELLS = [{"name": "cell1", "uuid": "u1", "database_connection": "db1"},
         {"name": "cell2", "uuid": "u2", "database_connection": "db2"}]


def _read(down: set[str]):
    def read(cell: dict) -> list:
        if cell["database_connection"] in down:
            raise exception.DatabaseUnavailable(reason="gone")
        return [cell["name"] + "-host"]
    return read


def test_every_cell_answers():
    assert _from_cells(CELLS, _read(set())) == ["cell1-host", "cell2-host"]


def test_a_down_cell_is_left_out():
    assert _from_cells(CELLS, _read({"db1"})) == ["cell2-host"]


def test_no_cell_answering_is_unavailable_not_empty():
    with pytest.raises(exception.DatabaseUnavailable):
        _from_cells(CELLS, _read({"db1", "db2"}))


def test_no_cells_at_all_is_an_empty_answer():
    assert _from_cells([], _read(set())) == []
