"""Resize and cold migration of servers with volumes, with the fake driver and the
in-memory Cinder: the volumes go with the server (the source's attachments replaced by
reservations when the guest leaves, the destination's connector given to them where it
is defined, attachments completed), a revert brings them back, a failed step leaves
them attached to the source, and a volume-backed root holds no local disk anywhere."""

from __future__ import annotations

import uuid

import pytest

from nova_lite.compute import states
from nova_lite.objects.block_device import BlockDeviceMapping
from tests import fake_volume
from tests.unit.compute.test_compute_manager import _ctx, _instance
from tests.unit.compute import test_moves_rebuild_reclaim as moves

_start_resize, call = moves._start_resize, moves.call
hosts = moves.hosts  # the same fixture

ROOT = {"source_type": "image", "destination_type": "volume", "boot_index": 0,
        "image_id": "11111111-1111-4111-8111-111111111111", "volume_size": 1,
        "delete_on_termination": True}


@pytest.fixture
def cinder(hosts):
    api = fake_volume.API()
    for m in hosts.values():
        m._volume_api = api
    return api


def _server_with_volumes(h1, cinder, volume_backed: bool):
    data = cinder.create(_ctx(), 2, "data")
    mappings = [dict(ROOT)] if volume_backed else []
    mappings.append({"source_type": "volume", "destination_type": "volume",
                     "boot_index": -1, "volume_id": data["id"], "volume_size": 2})
    inst = _instance(image_ref="" if volume_backed else None)
    h1.conductor.instances[inst.uuid] = inst
    h1.conductor.bdms[inst.uuid] = [
        BlockDeviceMapping(uuid=str(uuid.uuid4()), instance_uuid=inst.uuid,
                           **dict(dict(volume_id=None, attachment_id=None, image_id=None,
                                       snapshot_id=None, volume_type=None,
                                       device_name=None, disk_bus=None,
                                       connection_info=None, delete_on_termination=False),
                                  **b))
        for b in mappings]
    h1.build_and_run_instance(_ctx(), inst)
    assert inst.vm_state == states.ACTIVE, h1.conductor.faults
    return inst


def _attachments(cinder, inst) -> dict:
    """{volume id: [(host, status)]} of the server's attachments in Cinder."""
    out: dict = {}
    for att in cinder.attachments.values():
        if att["instance"] == inst.uuid:
            out.setdefault(att["volume_id"], []).append((att.get("host"),
                                                         att["attach_status"]))
    return out


def _guest_hosts(mgr, inst) -> dict:
    return {serial: v["connection_info"]["attachment_id"]
            for serial, v in mgr.driver.volumes_of(inst.uuid).items()}


@pytest.mark.parametrize("volume_backed", [True, False])
def test_resize_moves_the_volumes_then_confirm(hosts, cinder, volume_backed):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _server_with_volumes(h1, cinder, volume_backed)
    before = {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]}
    assert {v: a for v, a in _attachments(cinder, inst).items()} == {
        v: [("h1", "attached")] for v in before}

    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    assert (inst.vm_state, inst.host) == (states.RESIZED, "h2"), h1.conductor.faults
    # The same volumes, attached to the destination through new attachments only.
    assert _attachments(cinder, inst) == {v: [("h2", "attached")] for v in before}
    after = {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]}
    assert set(after) == set(before) and not set(after.values()) & set(before.values())
    assert _guest_hosts(h2, inst) == after
    assert all(b.connection()["attachment_id"] == b.attachment_id
               for b in h1.conductor.bdms[inst.uuid])
    assert all(cinder.volumes[v]["status"] == "in-use" for v in before)

    mig.status, inst.task_state = "confirming", states.RESIZE_CONFIRMING
    call(h1, "confirm_resize", inst, mig)
    assert (inst.vm_state, mig.status) == (states.ACTIVE, "confirmed")
    assert _attachments(cinder, inst) == {v: [("h2", "attached")] for v in before}


def test_revert_brings_the_volumes_back_to_the_source(hosts, cinder):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    volumes = [b.volume_id for b in h1.conductor.bdms[inst.uuid]]
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    mig.status, inst.task_state = "reverting", states.RESIZE_REVERTING
    call(h2, "revert_resize", inst, mig)
    assert (inst.vm_state, inst.host, mig.status) == (states.ACTIVE, "h1", "reverted")
    assert _attachments(cinder, inst) == {v: [("h1", "attached")] for v in volumes}
    assert _guest_hosts(h1, inst) == {b.volume_id: b.attachment_id
                                      for b in h1.conductor.bdms[inst.uuid]}
    assert h2.driver.list_instance_uuids() == []


@pytest.mark.parametrize("step", ["migrate", "finish"])
def test_a_failed_step_leaves_the_volumes_on_the_source(hosts, cinder, step):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    inst.metadata = {"fake_resize_error": step}
    volumes = [b.volume_id for b in h1.conductor.bdms[inst.uuid]]
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    assert (inst.vm_state, inst.host, mig.status) == (states.ACTIVE, "h1", "error")
    assert _attachments(cinder, inst) == {v: [("h1", "attached")] for v in volumes}
    assert set(_guest_hosts(h1, inst)) == set(volumes)
    assert h2.driver.list_instance_uuids() == []


def test_a_volume_backed_server_moving_holds_no_local_root_disk(hosts, cinder):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    mig = _start_resize(h1, inst, "h2")
    call(h1, "resize_instance", inst, mig)
    held = h2._sizes_held_here(_ctx(), h2.conductor.instance_list_by_host(_ctx(), "h2"))
    assert [f.root_gb for f in held] == [0]
    held = h1._sizes_held_here(_ctx(), [])
    assert [f.root_gb for f in held] == [0]


def _shelve(mgr, inst, image_id=None):
    """As the conductor starts a shelve (the API records no image for a volume-backed
    server)."""
    t = states.check("shelve", inst.uuid, inst.vm_state, inst.task_state)
    inst.task_state = t.task_state
    mgr.run_action(_ctx(), inst, "shelve", {"image_id": image_id})


def test_shelve_offloads_a_volume_backed_server_and_unshelve_takes_its_volumes(
        hosts, cinder):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    volumes = [b.volume_id for b in h1.conductor.bdms[inst.uuid]]
    _shelve(h1, inst)
    assert (inst.vm_state, inst.task_state, inst.host) == (
        states.SHELVED_OFFLOADED, None, None), h1.conductor.faults
    assert h1.driver.list_instance_uuids() == []
    # Reserved for the server, exported nowhere, data kept.
    assert _attachments(cinder, inst) == {v: [(None, "reserved")] for v in volumes}
    assert all(cinder.volumes[v]["status"] == "reserved" for v in volumes)
    assert "shelved_image_id" not in inst.system_metadata  # no image, as in Nova

    inst.host, inst.node = "h2", "h2"  # the conductor scheduled and claimed h2
    t = states.check("unshelve", inst.uuid, inst.vm_state, inst.task_state)
    inst.task_state = t.task_state
    h2.run_action(_ctx(), inst, "unshelve", {})
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None), h2.conductor.faults
    assert _attachments(cinder, inst) == {v: [("h2", "attached")] for v in volumes}
    guest = h2.driver.volumes_of(inst.uuid)
    assert guest[volumes[0]]["boot_index"] == 0 and set(guest) == set(volumes)


def test_failed_unshelve_leaves_the_volumes_reserved(hosts, cinder):
    h1, h2 = hosts["h1"], hosts["h2"]
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    volumes = [b.volume_id for b in h1.conductor.bdms[inst.uuid]]
    _shelve(h1, inst)
    inst.host, inst.node = "h2", "h2"
    inst.metadata = {"fake_spawn_error": "1"}
    t = states.check("unshelve", inst.uuid, inst.vm_state, inst.task_state)
    inst.task_state = t.task_state
    h2.run_action(_ctx(), inst, "unshelve", {})
    assert (inst.vm_state, inst.host) == (states.SHELVED_OFFLOADED, None)
    assert _attachments(cinder, inst) == {v: [(None, "reserved")] for v in volumes}


def test_offload_of_an_image_backed_server_keeps_its_data_volume(hosts, cinder):
    h1 = hosts["h1"]
    inst = _server_with_volumes(h1, cinder, volume_backed=False)
    [data] = [b.volume_id for b in h1.conductor.bdms[inst.uuid]]
    inst.vm_state, inst.task_state = states.SHELVED, states.SHELVING_OFFLOADING
    h1._offload(_ctx(), inst, None)
    assert inst.vm_state == states.SHELVED_OFFLOADED
    assert _attachments(cinder, inst) == {data: [(None, "reserved")]}


def test_resize_disk_rules_apply_to_a_local_root_only():
    from nova_lite import exception
    from nova_lite.conductor.resize import check_new_flavor
    from tests.unit.compute.test_moves_rebuild_reclaim import BIG

    ctx = _ctx()
    zero = BIG.obj_clone()
    zero.flavorid, zero.root_gb = "0", 0
    with pytest.raises(exception.Invalid, match="Unable to resize disk down"):
        check_new_flavor(ctx, BIG, _instance().flavor)
    with pytest.raises(exception.Invalid, match="zero disk flavor"):
        check_new_flavor(ctx, BIG, zero)
    # A root volume keeps its own size whatever the flavor says (as Nova).
    assert check_new_flavor(ctx, BIG, _instance().flavor, volume_backed=True).root_gb == 1
    assert check_new_flavor(ctx, BIG, zero, volume_backed=True) is zero


# -- live migration and evacuation ---------------------------------------------------------

@pytest.fixture
def two_with_calls(hosts, cinder):
    from tests.unit.compute.test_live_migration_evacuate import CallRouter

    router = CallRouter(hosts)
    for m in hosts.values():
        m._move_rpc = router
    return hosts["h1"], hosts["h2"]


def _migration(mgr, inst, kind: str, status: str, task_state: str):
    from tests.unit.compute.test_live_migration_evacuate import _move

    inst.task_state = task_state
    return _move(mgr, inst, kind, status)


def test_live_migration_attaches_on_the_destination_then_releases_the_source(
        two_with_calls, cinder):
    h1, h2 = two_with_calls
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    before = {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]}
    mig = _migration(h1, inst, "live-migration", "queued", states.MIGRATING)
    call(h1, "live_migration", inst, mig, False)
    assert (inst.host, mig.status) == ("h2", "completed"), h1.conductor.faults
    assert _attachments(cinder, inst) == {v: [("h2", "attached")] for v in before}
    after = {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]}
    assert not set(after.values()) & set(before.values())
    assert all(b.connection()["attachment_id"] == b.attachment_id
               for b in h1.conductor.bdms[inst.uuid])


@pytest.mark.parametrize("step", ["pre", "migrate"])
def test_a_failed_live_migration_keeps_the_source_attachments(two_with_calls, cinder,
                                                              step):
    h1, h2 = two_with_calls
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    inst.metadata = {"fake_live_migration_error": step}
    before = {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]}
    mig = _migration(h1, inst, "live-migration", "queued", states.MIGRATING)
    call(h1, "live_migration", inst, mig, False)
    assert (inst.host, mig.status) == ("h1", "error")
    assert _attachments(cinder, inst) == {v: [("h1", "attached")] for v in before}
    assert {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]} == before


def test_evacuation_rebuilds_from_the_root_volume_on_the_destination(two_with_calls,
                                                                     cinder):
    h1, h2 = two_with_calls
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    volumes = [b.volume_id for b in h1.conductor.bdms[inst.uuid]]
    mig = _migration(h1, inst, "evacuation", "pre-migrating", states.REBUILDING)
    call(h2, "evacuate_instance", inst, mig, states.ACTIVE, None)
    assert (inst.vm_state, inst.host, mig.status) == (states.ACTIVE, "h2", "done"), \
        h2.conductor.faults
    assert _attachments(cinder, inst) == {v: [("h2", "attached")] for v in volumes}
    assert set(h2.driver.volumes_of(inst.uuid)) == set(volumes)


def test_a_failed_evacuation_leaves_the_volumes_reserved(two_with_calls, cinder):
    h1, h2 = two_with_calls
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    volumes = [b.volume_id for b in h1.conductor.bdms[inst.uuid]]
    inst.metadata = {"fake_spawn_error": "1"}
    mig = _migration(h1, inst, "evacuation", "pre-migrating", states.REBUILDING)
    call(h2, "evacuate_instance", inst, mig, states.ACTIVE, None)
    assert (inst.vm_state, mig.status) == (states.ERROR, "failed")
    assert _attachments(cinder, inst) == {v: [(None, "reserved")] for v in volumes}


@pytest.mark.parametrize("volume_backed", [True, False])
def test_rebuild_keeps_the_volumes_in_the_new_guest(hosts, cinder, volume_backed):
    h1 = hosts["h1"]
    inst = _server_with_volumes(h1, cinder, volume_backed)
    before = _attachments(cinder, inst)
    guest_before = h1.driver.volumes_of(inst.uuid)
    inst.task_state = states.REBUILDING
    h1.rebuild_instance(_ctx(), inst, states.ACTIVE)
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None), h1.conductor.faults
    assert _attachments(cinder, inst) == before  # the same attachments, here
    assert h1.driver.volumes_of(inst.uuid) == guest_before


def test_evacuation_and_unshelve_make_the_local_disks_again(two_with_calls, cinder):
    h1, h2 = two_with_calls
    inst = _instance(image_ref=None)
    h1.conductor.instances[inst.uuid] = inst
    h1.conductor.bdms[inst.uuid] = [
        BlockDeviceMapping(uuid=str(uuid.uuid4()), instance_uuid=inst.uuid,
                           source_type="blank", destination_type="local", boot_index=-1,
                           volume_size=size, guest_format=fmt, device_name=None,
                           disk_bus=None, volume_id=None, delete_on_termination=True)
        for size, fmt in ((1, None), (64, "swap"))]
    h1.build_and_run_instance(_ctx(), inst)
    built = h1.driver.local_disks_of(inst.uuid)
    assert [(d["device_name"], d["file"]) for d in built] == [("vdc", "disk.eph0"),
                                                              ("vdd", "disk.swap")]
    mig = _migration(h1, inst, "evacuation", "pre-migrating", states.REBUILDING)
    call(h2, "evacuate_instance", inst, mig, states.ACTIVE, None)
    assert (inst.vm_state, inst.host) == (states.ACTIVE, "h2"), h2.conductor.faults
    assert h2.driver.local_disks_of(inst.uuid) == built


def test_a_restart_of_the_source_mid_live_migration_gives_the_volumes_back(
        two_with_calls, cinder):
    """The destination made its attachments (the mappings name them), then the source
    restarted: the mappings name the source's again and the destination's go."""
    h1, h2 = two_with_calls
    inst = _server_with_volumes(h1, cinder, volume_backed=True)
    before = {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]}
    mig = _migration(h1, inst, "live-migration", "queued", states.MIGRATING)
    h2.pre_live_migration(_ctx(), inst, mig, False)
    assert {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]} != before
    mig.status = "running"
    h1.init_host()
    h1.move_rpc.drain()
    assert (inst.task_state, inst.host, mig.status) == (None, "h1", "error")
    assert {b.volume_id: b.attachment_id for b in h1.conductor.bdms[inst.uuid]} == before
    assert _attachments(cinder, inst) == {v: [("h1", "attached")] for v in before}
    assert all(b.connection()["attachment_id"] == b.attachment_id
               for b in h1.conductor.bdms[inst.uuid])
