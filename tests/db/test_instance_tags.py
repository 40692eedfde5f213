"""A server's tags and metadata in its cell database: round trips, the four list filters,
state checks, limits, and concurrent edits that must not lose each other."""

from __future__ import annotations

import pytest

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.db import instance_tags
from nova_lite.db import instances as inst_db
from tests.db.test_cells_instances import create_instance, new_instance
from tests.db.test_placement import _race

OK = (states.ACTIVE, states.STOPPED)


def test_tags_roundtrip_and_filters(cell_url: str) -> None:
    made = {}
    for name, tags in (("ab", ["b", "a"]), ("a", ["a"]), ("c", ["c"]), ("none", [])):
        inst = new_instance(display_name=name, tags=tags)
        made[name] = create_instance(cell_url, inst, "cell1").uuid
    assert inst_db.instance_get(cell_url, made["ab"]).tags == ["a", "b"]

    def names(**filters: list) -> list:
        return sorted(i.display_name for i in inst_db.instance_list(cell_url, None, None,
                                                                    filters))

    assert names(tags=["a"]) == ["a", "ab"]
    assert names(tags=["a", "b"]) == ["ab"]
    assert names(**{"tags-any": ["b", "c"]}) == ["ab", "c"]
    assert names(**{"not-tags": ["a", "b"]}) == ["a", "c", "none"]
    assert names(**{"not-tags-any": ["a"]}) == ["c", "none"]
    assert [i.tags for i in inst_db.instance_list(cell_url, None, None,
                                                  {"uuids": [made["ab"]]})] == [["a", "b"]]


def test_tags_update(cell_url: str) -> None:
    uuid = create_instance(cell_url, new_instance(vm_state=states.ACTIVE, task_state=None),
                                   "cell1").uuid
    assert instance_tags.tags_update(cell_url, uuid, OK, ["x", "y"], []) == (["x", "y"],
                                                                            True)
    assert instance_tags.tags_update(cell_url, uuid, OK, ["x"], []) == (["x", "y"], False)
    assert instance_tags.tags_update(cell_url, uuid, OK, [], ["x"]) == (["y"], True)
    with pytest.raises(exception.InstanceTagNotFound):
        instance_tags.tags_update(cell_url, uuid, OK, [], ["x"])
    assert instance_tags.tags_update(cell_url, uuid, OK, ["z"], [], replace=True) == (
        ["z"], True)
    with pytest.raises(exception.Invalid):
        instance_tags.tags_update(cell_url, uuid, OK, [f"t{i}" for i in range(51)], [],
                                  replace=True)
    building = create_instance(cell_url, new_instance(vm_state=states.BUILDING),
                                       "cell1").uuid
    with pytest.raises(exception.InstanceInvalidState):
        instance_tags.tags_update(cell_url, building, OK, ["x"], [])


def test_metadata_update(cell_url: str) -> None:
    uuid = create_instance(cell_url, new_instance(vm_state=states.ACTIVE, task_state=None,
                                                          metadata={"a": "1"}), "cell1").uuid
    assert instance_tags.metadata_update(cell_url, uuid, OK, {"b": "2"}) == {"a": "1",
                                                                            "b": "2"}
    assert instance_tags.metadata_update(cell_url, uuid, OK, {"c": "3"}, replace=True) == {
        "c": "3"}
    assert instance_tags.metadata_update(cell_url, uuid, OK, {}, delete_key="c") == {}
    with pytest.raises(exception.MetadataItemNotFound):
        instance_tags.metadata_update(cell_url, uuid, OK, {}, delete_key="c")
    with pytest.raises(exception.MetadataLimitExceeded):
        instance_tags.metadata_update(cell_url, uuid, OK, {"a": "1", "b": "2"}, max_items=1)
    assert inst_db.instance_get(cell_url, uuid).metadata == {}
    inst_db.instance_update(cell_url, uuid, {"task_state": "rebooting"})
    with pytest.raises(exception.InstanceInvalidState):
        instance_tags.metadata_update(cell_url, uuid, OK, {"a": "1"})


def test_concurrent_metadata_and_tag_edits_are_all_kept(cell_url: str) -> None:
    uuid = create_instance(cell_url, new_instance(vm_state=states.ACTIVE, task_state=None,
                                                          metadata={}),
                                   "cell1").uuid

    def edit(i: int) -> object:
        if i % 2:
            return instance_tags.metadata_update(cell_url, uuid, OK, {f"k{i}": "v"})
        return instance_tags.tags_update(cell_url, uuid, OK, [f"t{i}"], [])

    results = _race(12, edit)
    assert not [r for r in results if isinstance(r, Exception)], results
    inst = inst_db.instance_get(cell_url, uuid)
    assert sorted(inst.metadata) == sorted(f"k{i}" for i in range(1, 12, 2))
    assert inst.tags == sorted(f"t{i}" for i in range(0, 12, 2))


def test_tags_differing_only_in_case_are_two_tags(cell_url: str) -> None:
    """Case counts on every database: MariaDB's default collation would make "b" and "B"
    one key (a duplicate entry) and match either in a filter."""
    both = create_instance(cell_url, new_instance(display_name="both",
                                                          tags=["b", "B"]), "cell1")
    create_instance(cell_url, new_instance(display_name="lower", tags=["b"]),
                            "cell1")
    assert inst_db.instance_get(cell_url, both.uuid).tags == ["B", "b"]
    assert [i.display_name for i in inst_db.instance_list(
        cell_url, None, None, {"tags": ["B"]})] == ["both"]
