"""instance_list's exact-match column filters and name narrowing, on both backends."""

from __future__ import annotations

from nova_lite.db import instances as inst_db
from tests.db.test_cells_instances import create_instance, new_instance


def test_column_filters_and_name_contains(cell_url: str) -> None:
    a = new_instance(display_name="web_1%", reservation_id="r-1", key_name="k1",
                     availability_zone="az1", hostname="web-1", node="n1")
    b = new_instance(display_name="webX1", reservation_id="r-2", key_name="k2",
                     availability_zone="az2", hostname="web-2", node="n2")
    c = new_instance(display_name="DB!1", reservation_id="r-1", user_id="u2")
    for inst in (a, b, c):
        create_instance(cell_url, inst, None)

    def names(**filters: object) -> list[str]:
        return sorted(i.display_name for i in inst_db.instance_list(cell_url, None, None,
                                                                    filters))

    assert names(columns={"reservation_id": "r-1"}) == ["DB!1", "web_1%"]
    assert names(columns={"reservation_id": "r-1", "user_id": "u2"}) == ["DB!1"]
    assert names(columns={"key_name": "k2", "availability_zone": "az2"}) == ["webX1"]
    assert names(columns={"hostname": "web-1", "node": "n1"}) == ["web_1%"]
    assert names(columns={"node": "n3"}) == []
    # LIKE's wildcards and the escape character are plain text here.
    assert names(name_contains="_1%") == ["web_1%"]
    assert names(name_contains="b_") == ["web_1%"]
    assert names(name_contains="!1") == ["DB!1"]
    assert names(name_contains="db") == ["DB!1"]  # case-blind: the API's regex decides
    assert names(name_contains="web", limit=1, columns={"reservation_id": "r-2"}) == [
        "webX1"]
