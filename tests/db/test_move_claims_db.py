"""Moves in the databases: migration records in a cell database, and the hand-over of
a claim between an instance and its migration in the API database."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from nova_lite import exception
from nova_lite.db import instance_migrations as mig_db
from nova_lite.db import instances as inst_db
from nova_lite.db import placement
from nova_lite.objects.flavor import Flavor
from tests.db.test_cells_instances import FLAVOR, create_instance, new_instance
from tests.db.test_placement import consumer, make_provider, used


def _resize(cell_url: str, inst_uuid: str, **over: object):
    values = dict(instance_uuid=inst_uuid, migration_type="resize", status="pre-migrating",
                  source_compute="c1", source_node="c1", old_instance_type_id=1,
                  new_instance_type_id=2, user_id="u1", project_id="p1")
    values.update(over)
    return mig_db.migration_create(cell_url, values)


def test_migration_create_get_update_and_guard(cell_url: str) -> None:
    inst = str(uuid.uuid4())
    mig = _resize(cell_url, inst)
    assert mig.status == "pre-migrating" and mig.in_progress and not mig.same_host
    assert mig.dest_compute is None and mig.hidden is False and mig.deleted is False
    assert mig_db.migration_get(cell_url, mig.uuid).id == mig.id
    mig = mig_db.migration_update(cell_url, mig.uuid,
                                  {"dest_compute": "c1", "dest_node": "c1",
                                   "status": "migrating"}, expected_status="pre-migrating")
    assert mig.same_host and mig.status == "migrating"
    with pytest.raises(exception.MigrationInvalidState):
        mig_db.migration_update(cell_url, mig.uuid, {"status": "finished"},
                                expected_status=["pre-migrating", "post-migrating"])
    assert mig_db.migration_get(cell_url, mig.uuid).status == "migrating"
    mig = mig_db.migration_update(cell_url, mig.uuid, {"status": "confirmed"})
    assert not mig.in_progress
    with pytest.raises(exception.MigrationNotFound):
        mig_db.migration_get(cell_url, str(uuid.uuid4()))
    with pytest.raises(exception.Invalid):
        mig_db.migration_update(cell_url, mig.uuid, {"instance_uuid": inst})


def test_migration_list_filters(cell_url: str) -> None:
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    m1 = _resize(cell_url, a, dest_compute="c2", status="finished")
    m2 = _resize(cell_url, b, source_compute="c3", dest_compute="c3", status="reverted")
    m3 = _resize(cell_url, a, status="error")
    assert [m.uuid for m in mig_db.migration_list(cell_url, instance_uuid=a)] == [m3.uuid,
                                                                                m1.uuid]
    assert {m.uuid for m in mig_db.migration_list(cell_url, host="c2")} == {m1.uuid}
    assert {m.uuid for m in mig_db.migration_list(cell_url, host="c1")} == {m1.uuid, m3.uuid}
    assert [m.uuid for m in mig_db.migration_list(cell_url, in_progress=True)] == [m1.uuid]
    assert {m.uuid for m in mig_db.migration_list(cell_url, in_progress=False)} == {
        m2.uuid, m3.uuid}
    assert [m.uuid for m in mig_db.migration_list(cell_url, status=["finished"],
                                                   host="c2")] == [m1.uuid]
    later = datetime.utcnow() + timedelta(seconds=5)
    assert len(mig_db.migration_list(cell_url, updated_before=later)) == 3
    assert mig_db.migration_list(cell_url, updated_before=later - timedelta(hours=1)) == []
    assert len(mig_db.migration_list(cell_url, limit=2)) == 2


def test_instance_keeps_lock_owner_system_metadata_and_resize_flavors(cell_url: str) -> None:
    inst = create_instance(cell_url, new_instance(), "cell1")
    assert inst.system_metadata == {} and inst.locked_by is None
    assert inst.old_flavor is None and inst.new_flavor is None
    big = Flavor(**dict(FLAVOR, id=2, flavorid="2", name="big", memory_mb=2048))
    inst = inst_db.instance_update(cell_url, inst.uuid, {
        "locked": True, "locked_by": "admin", "system_metadata": {"locked_reason": "audit"},
        "old_flavor": inst.flavor, "new_flavor": big, "flavor": big, "memory_mb": 2048,
        "deleted_at": datetime(2030, 1, 1)})
    again = inst_db.instance_get(cell_url, inst.uuid)
    assert again.locked and again.locked_by == "admin"
    assert again.system_metadata == {"locked_reason": "audit"}
    assert again.flavor.name == "big" and again.new_flavor.name == "big"
    assert again.old_flavor.name == "m1.nano" and again.memory_mb == 2048
    assert again.deleted_at.replace(tzinfo=None) == datetime(2030, 1, 1)
    assert not again.deleted  # a deleted_at alone (soft delete) keeps the record live
    again = inst_db.instance_update(cell_url, inst.uuid, {"old_flavor": None,
                                                          "new_flavor": None})
    assert again.old_flavor is None and again.new_flavor is None


def test_move_allocations_hands_a_claim_over_and_back(api_url: str) -> None:
    src = make_provider(api_url, "src")
    dest = make_provider(api_url, "dst")
    instance, migration = consumer(), consumer()
    small = {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
    big = {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 2}
    placement.claim(api_url, src, instance, small)
    # resize: the source claim moves to the migration, the instance claims the target
    assert placement.move_allocations(api_url, instance, migration) == 3
    assert placement.consumer_allocations(api_url, instance) == {}
    placement.claim(api_url, dest, instance, big)
    assert used(api_url, "src") == {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
    assert used(api_url, "dst") == {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 2}
    # revert: the migration's claim replaces the instance's target claim
    assert placement.move_allocations(api_url, migration, instance) == 3
    assert placement.consumer_allocations(api_url, instance) == {src: small}
    assert used(api_url, "dst") == {"VCPU": 0, "MEMORY_MB": 0, "DISK_GB": 0}
    # replaying it changes nothing
    assert placement.move_allocations(api_url, migration, instance) == 0
    assert placement.consumer_allocations(api_url, instance) == {src: small}


def test_move_allocations_bumps_generations(api_url: str) -> None:
    src = make_provider(api_url, "src")
    instance, migration = consumer(), consumer()
    placement.claim(api_url, src, instance, {"VCPU": 1})
    before = placement.provider_summaries(api_url)[0]["generation"]
    placement.move_allocations(api_url, instance, migration)
    assert placement.provider_summaries(api_url)[0]["generation"] == before + 1


def test_migration_list_operator_filters(cell_url: str) -> None:
    inst = str(uuid.uuid4())
    m1 = _resize(cell_url, inst, source_compute="s1", user_id="ux", project_id="px")
    m2 = _resize(cell_url, inst, source_compute="s2", migration_type="migration")
    mig_db.migration_update(cell_url, m2.uuid, {"hidden": True})
    mine = mig_db.migration_list(cell_url, instance_uuid=inst)
    assert [m.uuid for m in mine] == [m2.uuid, m1.uuid]
    assert [m.uuid for m in mig_db.migration_list(cell_url, instance_uuid=inst,
                                                  hidden=False)] == [m1.uuid]
    assert [m.uuid for m in mig_db.migration_list(cell_url, source_compute="s2")] == [m2.uuid]
    assert [m.uuid for m in mig_db.migration_list(cell_url, user_id="ux",
                                                  project_id="px")] == [m1.uuid]
    assert mig_db.migration_list(cell_url, user_id="ux", project_id="p1") == []
    changed = max(m.updated_at or m.created_at for m in mine)
    assert len(mig_db.migration_list(cell_url, instance_uuid=inst,
                                     changed_since=changed)) >= 1
    assert mig_db.migration_list(cell_url, instance_uuid=inst,
                                 changed_since=changed + timedelta(seconds=1)) == []
    assert len(mig_db.migration_list(cell_url, instance_uuid=inst,
                                     changed_before=changed)) == 2
