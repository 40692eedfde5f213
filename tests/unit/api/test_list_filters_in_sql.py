"""List filters the cells' queries apply (so a page limit still applies there): exact
matches on text columns, and a name pattern's literal text narrowing the rows read."""

from __future__ import annotations

import pytest

from nova_lite.api.handlers.servers import _literal_part
from tests.unit.api.conftest import ALICE
from tests.unit.api.test_servers import _create


def test_reservation_id_goes_to_the_query_with_the_page_limit(client, conductor,
                                                               image_id) -> None:
    first = _create(client, image_id, min_count=3, max_count=3,
                    return_reservation_id=True).json["reservation_id"]
    _create(client, image_id, min_count=2, max_count=2)
    resp = client.get(f"/v2.1/servers?reservation_id={first}&limit=2", token=ALICE)
    assert resp.status_int == 200, resp.text
    assert len(resp.json["servers"]) == 2
    assert conductor.last_list["limit"] == 2  # paged by the conductor, no post-filter
    resp = client.get(f"/v2.1/servers/detail?reservation_id={first}", token=ALICE)
    assert sorted(s["name"] for s in resp.json["servers"]) == ["web-1", "web-2", "web-3"]


def test_a_name_pattern_still_decides_after_narrowing(client, conductor, image_id) -> None:
    _create(client, image_id, name="Web-a", min_count=2, max_count=2)
    _create(client, image_id, name="web-a")
    listed = client.get("/v2.1/servers?name=^web-a$", token=ALICE).json["servers"]
    names = [s["name"] for s in listed]
    assert names == ["web-a"]  # the case-blind narrowing kept Web-a-*, the regex did not
    listed = client.get("/v2.1/servers?name=a-", token=ALICE).json["servers"]
    names = sorted(s["name"] for s in listed)
    assert names == ["Web-a-1", "Web-a-2"]


@pytest.mark.parametrize("pattern,literal", [
    ("web", "web"), ("^web-1$", "web-1"), ("web-1$", "web-1"), ("^web", "web"),
    ("web.*", None), ("^$", None), ("a|b", None), ("x\\$", None), ("50%_off", "50%_off"),
])
def test_literal_part(pattern: str, literal: str | None) -> None:
    assert _literal_part(pattern) == literal
