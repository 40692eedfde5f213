"""Host aggregates in the API database: hosts, metadata, and the one-zone-per-host rule."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.db import aggregates as agg_db

NOBODY = lambda hosts: []  # noqa: E731  (no host runs servers)


def test_aggregate_crud(api_url: str) -> None:
    a = agg_db.aggregate_create(api_url, "rack1", "az1")
    assert (a.name, a.availability_zone, a.hosts) == ("rack1", "az1", [])
    with pytest.raises(exception.AggregateNameExists):
        agg_db.aggregate_create(api_url, "rack1", None)
    agg_db.host_add(api_url, a.id, "c1", "nova")
    with pytest.raises(exception.AggregateHostExists):
        agg_db.host_add(api_url, a.id, "c1", "nova")
    a = agg_db.aggregate_update(api_url, a.id, {"name": "r1", "metadata": {"ssd": "true"}},
                                "nova", NOBODY)
    assert a.name == "r1" and a.metadata == {"availability_zone": "az1", "ssd": "true"}
    a = agg_db.aggregate_update(api_url, a.id, {"metadata": {"ssd": None}}, "nova", NOBODY)
    assert a.metadata == {"availability_zone": "az1"}
    assert [x.name for x in agg_db.aggregate_list(api_url)] == ["r1"]
    with pytest.raises(exception.AggregateActionConflict) as err:
        agg_db.aggregate_delete(api_url, a.id)
    assert err.value.code == 400
    with pytest.raises(exception.AggregateHostNotFound):
        agg_db.host_remove(api_url, a.id, "c2")
    assert agg_db.host_remove(api_url, a.id, "c1").hosts == []
    agg_db.aggregate_delete(api_url, a.id)
    with pytest.raises(exception.AggregateNotFound):
        agg_db.aggregate_get(api_url, a.id)


def test_one_zone_per_host(api_url: str) -> None:
    az1 = agg_db.aggregate_create(api_url, "a1", "az1")
    az2 = agg_db.aggregate_create(api_url, "a2", "az2")
    plain = agg_db.aggregate_create(api_url, "p", None)
    agg_db.host_add(api_url, az1.id, "c1", "nova")
    with pytest.raises(exception.AggregateActionConflict):
        agg_db.host_add(api_url, az2.id, "c1", "nova")
    agg_db.host_add(api_url, plain.id, "c1", "nova")  # no zone: fine
    agg_db.aggregate_update(api_url, plain.id, {"metadata": {"gpu": "yes"}}, "nova", NOBODY)
    with pytest.raises(exception.AggregateActionConflict):  # would give c1 a second zone
        agg_db.aggregate_update(api_url, plain.id, {"metadata": {"availability_zone": "az2"}},
                                "nova", NOBODY)
    zones, meta = agg_db.host_views(api_url)
    assert zones == {"c1": "az1"}
    assert meta == {"c1": {"availability_zone": ["az1"], "gpu": ["yes"]}}
    with pytest.raises(exception.AggregateActionConflict) as err:  # servers run there
        agg_db.aggregate_update(api_url, az1.id, {"metadata": {"availability_zone": "az3"}},
                                "nova", lambda hosts: hosts)
    assert "contain instances" in err.value.format_message()


def test_host_aggregates_are_mirrored_as_provider_aggregates(api_url: str) -> None:
    from nova_lite.db import placement
    from nova_lite.db import placement_query as pq

    inv = {"VCPU": {"total": 4, "reserved": 0, "allocation_ratio": 1.0}}
    rp = placement.provider_ensure(api_url, "c1.node", "c1", None, inv)
    a = agg_db.aggregate_create(api_url, "rack1", None)
    b = agg_db.aggregate_create(api_url, "rack2", None)
    gen = pq.provider_get(api_url, rp)["generation"]
    agg_db.host_add(api_url, a.id, "c1", "nova")
    got = pq.provider_detail(api_url, rp, "aggregates")
    assert got == {"generation": gen + 1, "aggregates": [a.uuid]}
    # A provider made after its host joined an aggregate starts as a member.
    agg_db.host_add(api_url, b.id, "c2", "nova")
    rp2 = placement.provider_ensure(api_url, "c2.node", "c2", None, inv)
    assert pq.provider_detail(api_url, rp2, "aggregates")["aggregates"] == [b.uuid]
    agg_db.host_remove(api_url, a.id, "c1")
    assert pq.provider_detail(api_url, rp, "aggregates")["aggregates"] == []
    assert pq.provider_list(api_url, {"member_of": [{"any": [b.uuid]}]})[0]["uuid"] == rp2
