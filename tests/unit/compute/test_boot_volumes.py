"""Builds and deletes of servers with volumes on a compute host, against the fake driver
and the in-memory Cinder: the root volume made from the image and waited for, existing
volumes exported to the host, attachments completed; failures and deletes release the
attachments and the volumes to delete."""

from __future__ import annotations

import uuid

import pytest

from nova_lite import context, exception
from nova_lite.compute import boot_volumes, manager, states
from nova_lite.conf import CONF
from nova_lite.objects.block_device import BlockDeviceMapping
from nova_lite.virt import fake
from tests import fake_volume
from tests.unit.compute.test_compute_manager import FakeConductor, _instance

CTX = context.RequestContext(user_id="u", project_id="p")


@pytest.fixture
def mgr():
    m = manager.ComputeManager("h1", conductor=FakeConductor(),
                               driver=fake.FakeDriver("h1", None, CONF))
    m.driver.init_host(m._lifecycle_event)
    m._volume_api = fake_volume.API()
    return m


def _server(mgr, *bdms, **kw):
    inst = _instance(**dict({"image_ref": ""}, **kw))
    mgr.conductor.instances[inst.uuid] = inst
    mgr.conductor.bdms[inst.uuid] = [
        BlockDeviceMapping(uuid=str(uuid.uuid4()), instance_uuid=inst.uuid,
                           **dict(dict(volume_id=None, attachment_id=None, image_id=None,
                                       snapshot_id=None, volume_type=None, device_name=None,
                                       disk_bus=None, connection_info=None,
                                       delete_on_termination=False), **b))
        for b in bdms]
    return inst


ROOT = {"source_type": "image", "destination_type": "volume", "boot_index": 0,
        "image_id": "11111111-1111-4111-8111-111111111111", "volume_size": 1,
        "delete_on_termination": True}


def test_a_build_told_its_mappings_asks_for_them_only_when_it_has_volumes(mgr):
    from nova_lite.objects.block_device import BlockDeviceMappingList

    asked = []
    read = mgr.conductor.bdm_list_by_instance
    mgr.conductor.bdm_list_by_instance = lambda ctx, u: asked.append(u) or read(ctx, u)
    plain = _instance()
    mgr.conductor.instances[plain.uuid] = plain
    mgr.build_and_run_instance(CTX, plain, BlockDeviceMappingList.of([]))
    assert plain.vm_state == states.ACTIVE and asked == []
    inst = _server(mgr, ROOT)
    mgr.build_and_run_instance(CTX, inst, BlockDeviceMappingList.of(
        mgr.conductor.bdms[inst.uuid]))
    assert inst.vm_state == states.ACTIVE and asked == [inst.uuid]
    assert mgr.driver.volumes_of(inst.uuid)


def test_boot_from_a_volume_made_from_the_image(mgr):
    inst = _server(mgr, ROOT)
    mgr.build_and_run_instance(CTX, inst)
    assert inst.vm_state == states.ACTIVE, mgr.conductor.faults
    [bdm] = mgr.conductor.bdms[inst.uuid]
    vol = mgr.volume_api.get(CTX, bdm.volume_id)
    assert vol["status"] == "in-use" and vol["size"] == 1
    assert vol["volume_image_metadata"]["image_id"] == ROOT["image_id"]
    assert bdm.device_name == "/dev/vda" and bdm.connection()["driver_volume_type"] == "rbd"
    guest = mgr.driver.volumes_of(inst.uuid)
    assert guest[bdm.volume_id]["mountpoint"] == "/dev/vda"
    assert guest[bdm.volume_id]["boot_index"] == 0

    mgr.terminate_instance(CTX, inst)  # delete_on_termination: the volume goes
    assert bdm.volume_id not in mgr.volume_api.volumes
    assert inst.uuid in mgr.conductor.destroyed


def test_existing_volume_reserved_by_the_api_is_kept_on_delete(mgr):
    api = fake_volume.API()
    mgr._volume_api = api
    vol = api.create(CTX, 2, "mine")
    att = api.attachment_create(CTX, vol["id"], "x")  # as the API reserved it
    inst = _server(mgr, {"source_type": "volume", "destination_type": "volume",
                         "boot_index": 0, "volume_id": vol["id"],
                         "attachment_id": att["id"]},
                   {"source_type": "blank", "destination_type": "volume",
                    "boot_index": -1, "volume_size": 1, "device_name": "/dev/vdb"})
    mgr.build_and_run_instance(CTX, inst)
    assert inst.vm_state == states.ACTIVE, mgr.conductor.faults
    root, blank = mgr.conductor.bdms[inst.uuid]
    assert root.attachment_id == att["id"]  # the reservation became the attachment
    assert blank.device_name == "/dev/vdc"  # vdb is the config drive's
    assert api.get(CTX, vol["id"])["status"] == "in-use"
    mgr.terminate_instance(CTX, inst)
    assert api.get(CTX, vol["id"])["status"] == "available"  # kept, detached
    assert api.get(CTX, blank.volume_id)["status"] == "available"  # not d_o_t


def test_a_volume_that_never_becomes_available_fails_the_build(mgr):
    CONF.set_override("block_device_allocate_retries", 2)
    CONF.set_override("block_device_allocate_retries_interval", 0)
    try:
        real_get = mgr.volume_api.get
        mgr.volume_api.get = lambda ctx, vid: dict(real_get(ctx, vid), status="creating")
        inst = _server(mgr, ROOT)
        mgr.build_and_run_instance(CTX, inst)
    finally:
        CONF.clear_override("block_device_allocate_retries")
        CONF.clear_override("block_device_allocate_retries_interval")
    assert inst.vm_state == states.ERROR and inst.host is None
    assert "did not finish being created even after we waited" in \
        mgr.conductor.faults[0][2]
    assert "3 attempts" in mgr.conductor.faults[0][2]
    assert mgr.volume_api.volumes == {}  # made by nova, delete_on_termination: gone
    assert mgr.conductor.released == [inst.uuid]


def test_spawn_failure_releases_attachments_and_volumes_made(mgr):
    api = mgr.volume_api
    vol = api.create(CTX, 1, "user's")
    att = api.attachment_create(CTX, vol["id"], "x")
    inst = _server(mgr, dict(ROOT, delete_on_termination=True),
                   {"source_type": "volume", "destination_type": "volume",
                    "boot_index": -1, "volume_id": vol["id"], "attachment_id": att["id"],
                    "delete_on_termination": True},
                   metadata={"fake_spawn_error": "1"})
    mgr.build_and_run_instance(CTX, inst)
    assert inst.vm_state == states.ERROR
    assert list(api.volumes) == [vol["id"]]  # the user's volume stays
    assert api.get(CTX, vol["id"])["status"] == "available" and api.attachments == {}


def test_error_volume_fails_at_once(mgr):
    real_create = mgr.volume_api.create

    def broken(*a, **kw):
        v = real_create(*a, **kw)
        mgr.volume_api.volumes[v["id"]]["status"] = "error"
        return v

    mgr.volume_api.create = broken
    inst = _server(mgr, ROOT)
    mgr.build_and_run_instance(CTX, inst)
    assert inst.vm_state == states.ERROR
    assert "its status is error" in mgr.conductor.faults[0][2]


def test_no_cinder_is_a_clear_build_failure(mgr):
    mgr._volume_api = None
    inst = _server(mgr, ROOT)
    mgr.build_and_run_instance(CTX, inst)
    assert inst.vm_state == states.ERROR
    assert "Volumes are not available" in mgr.conductor.faults[0][2]


def test_release_volumes_tolerates_what_is_gone():
    api = fake_volume.API()
    bdm = BlockDeviceMapping(uuid=str(uuid.uuid4()), instance_uuid=str(uuid.uuid4()),
                             source_type="image", destination_type="volume",
                             volume_id=str(uuid.uuid4()), attachment_id=str(uuid.uuid4()),
                             delete_on_termination=True)
    boot_volumes.release_volumes(CTX, api, [bdm])  # neither exists: no error
    with pytest.raises(exception.VolumeNotFound):
        api.get(CTX, bdm.volume_id)


def test_a_volume_backed_server_holds_no_local_root_disk(mgr):
    image_backed, volume_backed = _instance(image_ref="img"), _instance(image_ref="")
    assert manager._local_root_gb(image_backed) == 1
    assert manager._local_root_gb(volume_backed) == 0
    assert manager._local_root_gb(image_backed.flavor) == 1
    # ephemeral and swap disks are local whatever the root is (as DISK_GB counts them)
    with_eph = image_backed.flavor.obj_clone()
    with_eph.ephemeral_gb, with_eph.swap = 2, 512
    volume_backed.flavor = with_eph
    assert manager._local_disks_gb(volume_backed) == manager._local_disks_gb(with_eph) == 3
    assert manager._local_disks_gb(image_backed) == 0


def test_a_server_booted_from_a_volume_snapshot_image_holds_no_local_root_disk(mgr):
    """Its image_ref is the image, whose mappings made its root a volume (a createImage
    of a volume-backed server): only its mappings tell."""
    snap = dict(ROOT, source_type="snapshot", image_id=None,
                snapshot_id=str(uuid.uuid4()))
    from_snapshot = _server(mgr, snap, image_ref="img",
                            system_metadata={"image_bdm_v2": "True"})
    data_only = _server(mgr, dict(snap, boot_index=-1), image_ref="img",
                        system_metadata={"image_bdm_v2": "True"})
    plain = _instance(image_ref="img")
    roots = mgr._volume_roots(CTX, [from_snapshot, data_only, plain])
    assert roots == {from_snapshot.uuid}
    assert manager._local_root_gb(from_snapshot, roots) == 0
    assert manager._local_root_gb(data_only, roots) == 1


def test_a_snapshot_still_being_made_is_waited_for(mgr, monkeypatch):
    monkeypatch.setattr(CONF, "block_device_allocate_retries_interval", 0)
    api = mgr.volume_api
    vol = api.create(CTX, 1, "root")
    snap = api.create_snapshot_force(CTX, vol["id"], "s", None)
    api.snapshots[snap["id"]]["status"] = "creating"
    seen = []

    def get_snapshot(ctx, snapshot_id):
        seen.append(snapshot_id)
        if len(seen) == 2:
            api.snapshots[snapshot_id]["status"] = "available"
        return fake_volume.API.get_snapshot(api, ctx, snapshot_id)

    monkeypatch.setattr(api, "get_snapshot", get_snapshot)
    inst = _server(mgr, dict(ROOT, source_type="snapshot", image_id=None,
                             snapshot_id=snap["id"]))
    mgr.build_and_run_instance(CTX, inst)
    assert inst.vm_state == states.ACTIVE, mgr.conductor.faults
    assert len(seen) == 2  # creating, then available
    [bdm] = mgr.conductor.bdms[inst.uuid]
    assert api.get(CTX, bdm.volume_id)["snapshot_id"] == snap["id"]


def test_local_disks_are_named_recorded_and_given_to_the_driver(mgr):
    from nova_lite.objects.block_device import BlockDeviceMappingList

    eph = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
           "volume_size": 1, "guest_format": "ext4", "delete_on_termination": True}
    swap = dict(eph, volume_size=64, guest_format="swap")
    blank = {"source_type": "blank", "destination_type": "volume", "boot_index": -1,
             "volume_size": 1, "device_name": "/dev/vdc"}
    inst = _server(mgr, ROOT, eph, swap, blank)
    mgr.build_and_run_instance(CTX, inst, BlockDeviceMappingList.of(
        mgr.conductor.bdms[inst.uuid]))
    assert inst.vm_state == states.ACTIVE, inst.fault
    assert [(d["device_name"], d["size_mb"], d["swap"], d["guest_format"], d["label"],
             d["file"]) for d in mgr.driver.local_disks_of(inst.uuid)] == [
        ("vdc", 1024, False, "ext4", "ephemeral0", "disk.eph0"),
        ("vdd", 64, True, None, None, "disk.swap")]
    # the volume asked for vdc, which the ephemeral disk took: it gets the next free one
    assert sorted(v["mountpoint"] for v in mgr.driver.volumes_of(inst.uuid).values()) == [
        "/dev/vda", "/dev/vde"]
    assert sorted(b.device_name for b in mgr.conductor.bdms[inst.uuid]) == [
        "/dev/vda", "/dev/vdc", "/dev/vdd", "/dev/vde"]


@pytest.mark.parametrize("option,os_type,expected", [
    (None, None, "vfat"), (None, "linux", "ext4"), (None, "windows", "ntfs"),
    (None, "freebsd", "vfat"), ("xfs", "linux", "xfs"), ("ext3", None, "ext3")])
def test_an_ephemeral_disk_without_guest_format_gets_novas_filesystem(
        mgr, option, os_type, expected):
    from nova_lite.objects.block_device import BlockDeviceMappingList

    eph = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
           "volume_size": 1, "guest_format": None, "delete_on_termination": True}
    own = dict(eph, guest_format="ext2")  # a mapping's own guest_format wins
    sysmeta = {"image_os_type": os_type} if os_type else {}
    inst = _server(mgr, ROOT, eph, own, system_metadata=sysmeta)
    CONF.set_override("default_ephemeral_format", option)
    try:
        mgr.build_and_run_instance(CTX, inst, BlockDeviceMappingList.of(
            mgr.conductor.bdms[inst.uuid]))
    finally:
        CONF.clear_override("default_ephemeral_format")
    assert inst.vm_state == states.ACTIVE, inst.fault
    assert [(d["guest_format"], d["label"]) for d in mgr.driver.local_disks_of(inst.uuid)] \
        == [(expected, "ephemeral0"), ("ext2", "ephemeral1")]
