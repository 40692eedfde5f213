"""Block device mappings in a cell database and through the conductor: create (replay
safe), list boot disk first, look up by volume, update, destroy, gone with the instance,
and the mappings of a server still being scheduled read from its request spec."""

from __future__ import annotations

import json
import uuid

import pytest

from nova_lite import context, exception
from nova_lite.conductor.block_devices import BlockDevicesMixin
from nova_lite.conductor.cells import CellDirectory
from nova_lite.db import block_devices as bdm_db
from nova_lite.db import cells as cells_db
from nova_lite.db import instances as inst_db
from nova_lite.objects import block_device
from nova_lite.objects.block_device import BlockDeviceMapping, BlockDeviceMappingList
from nova_lite.objects.request_spec import RequestSpec
from tests.db.test_cells_instances import create_instance, map_to_cell, new_instance

VOL = {"source_type": "volume", "destination_type": "volume", "boot_index": None,
       "device_name": "/dev/vdb", "delete_on_termination": False}


def test_bdm_roundtrip(cell_url: str) -> None:
    inst = create_instance(cell_url, new_instance(), "cell1")
    vol_id = str(uuid.uuid4())
    data = bdm_db.bdm_create(cell_url, inst.uuid, dict(VOL, volume_id=vol_id, tag="t"))
    root = bdm_db.bdm_create(cell_url, inst.uuid, {
        "source_type": "image", "destination_type": "volume", "boot_index": 0,
        "image_id": str(uuid.uuid4()), "volume_size": 1, "delete_on_termination": True})
    listed = bdm_db.bdm_list(cell_url, [inst.uuid, "nope"])
    assert [b.uuid for b in listed[inst.uuid]] == [root.uuid, data.uuid]
    assert listed["nope"] == []
    assert block_device.volume_backed(listed[inst.uuid])
    assert data.tag == "t" and data.delete_on_termination is False and data.id

    again = bdm_db.bdm_create(cell_url, inst.uuid, dict(VOL, volume_id="other"),
                              uuid=data.uuid)
    assert again.volume_id == vol_id  # a replay returns the first row

    assert bdm_db.bdm_get_by_volume(cell_url, vol_id).uuid == data.uuid
    assert bdm_db.bdm_get_by_volume(cell_url, vol_id, inst.uuid).uuid == data.uuid
    with pytest.raises(exception.VolumeBDMNotFound):
        bdm_db.bdm_get_by_volume(cell_url, vol_id, str(uuid.uuid4()))

    info = {"driver_volume_type": "rbd", "data": {"name": "volumes/volume-x"}}
    upd = bdm_db.bdm_update(cell_url, data.uuid, {"attachment_id": "a" * 36,
                                                  "connection_info": json.dumps(info)})
    assert upd.connection() == info and upd.attachment_id == "a" * 36
    with pytest.raises(exception.Invalid):
        bdm_db.bdm_update(cell_url, data.uuid, {"instance_uuid": "x"})

    assert bdm_db.bdm_destroy(cell_url, data.uuid)
    assert not bdm_db.bdm_destroy(cell_url, data.uuid)
    with pytest.raises(exception.VolumeBDMNotFound):
        bdm_db.bdm_get_by_volume(cell_url, vol_id)
    with pytest.raises(exception.BDMNotFound):
        bdm_db.bdm_update(cell_url, data.uuid, {"tag": "u"})

    inst_db.instance_destroy(cell_url, inst.uuid)
    assert bdm_db.bdm_list(cell_url, [inst.uuid])[inst.uuid] == []


class _Conductor(BlockDevicesMixin):
    def __init__(self, api_url: str) -> None:
        self.api_url = api_url
        self.cells = CellDirectory(api_url, None)


def test_conductor_methods(api_url: str, mapped_cells: dict) -> None:
    ctx = context.get_admin_context()
    cond = _Conductor(api_url)
    cell1 = mapped_cells["cell1"]
    inst = create_instance(cell1, new_instance(), "cell1")
    cells_db.build_request_create(api_url, inst.uuid, "p1", "u1", inst.obj_to_primitive(),
                                  RequestSpec(flavor=inst.flavor).obj_to_primitive())
    map_to_cell(api_url, inst.uuid, mapped_cells["cell1_uuid"])
    cells_db.build_request_delete(api_url, inst.uuid)

    vol_id = str(uuid.uuid4())
    made = cond.bdm_create(ctx, inst.uuid, dict(VOL, volume_id=vol_id))
    assert isinstance(cond.bdm_list_by_instance(ctx, inst.uuid), BlockDeviceMappingList)
    assert [b.uuid for b in cond.bdm_list_by_instance(ctx, inst.uuid)] == [made.uuid]
    assert cond.bdm_get_by_volume(ctx, vol_id).uuid == made.uuid
    assert cond.bdm_get_by_volume(ctx, vol_id, inst.uuid).uuid == made.uuid
    assert cond.bdm_update(ctx, inst.uuid, made.uuid, {"tag": "x"}).tag == "x"
    assert [b.tag for b in cond.bdm_list_by_instances(ctx, [inst.uuid])[inst.uuid]] == ["x"]
    cond.bdm_destroy(ctx, inst.uuid, made.uuid)
    with pytest.raises(exception.VolumeBDMNotFound):
        cond.bdm_get_by_volume(ctx, vol_id)

    # A build request: its mappings are the ones its request spec carries.
    pending = new_instance()
    bdm = BlockDeviceMapping(uuid=str(uuid.uuid4()), instance_uuid=pending.uuid,
                             source_type="image", destination_type="volume", boot_index=0,
                             volume_size=1, delete_on_termination=True)
    spec = RequestSpec(instance_uuid=pending.uuid, project_id="p1", user_id="u1",
                       flavor=pending.flavor, image_id=None, availability_zone=None,
                       num_instances=1, ignore_hosts=[], force_hosts=[],
                       block_device_mappings=[bdm], is_bfv=True)
    cells_db.build_request_create(api_url, pending.uuid, "p1", "u1",
                                  pending.obj_to_primitive(), spec.obj_to_primitive())
    assert [b.uuid for b in cond.bdm_list_by_instance(ctx, pending.uuid)] == [bdm.uuid]
    with pytest.raises(exception.InstanceInvalidState):
        cond.bdm_create(ctx, pending.uuid, VOL)


def test_request_spec_of_volume_backed_server_claims_no_root_disk() -> None:
    from nova_lite.objects.flavor import Flavor

    flavor = Flavor(vcpus=1, memory_mb=64, root_gb=10, ephemeral_gb=2, swap=512,
                    extra_specs={})
    spec = RequestSpec(flavor=flavor)
    assert spec.resources()["DISK_GB"] == 13
    spec.is_bfv = True
    assert spec.resources()["DISK_GB"] == 3
    data = {"is_bfv": True, "block_device_mappings": []}
    RequestSpec(is_bfv=True).obj_make_compatible(data, "1.1")
    assert data == {}


def test_requested_mappings_reach_the_cell_and_reservations_are_released(
        api_url: str, mapped_cells: dict) -> None:
    from nova_lite.conductor.block_devices import for_instance
    from tests import fake_volume

    ctx = context.get_admin_context()
    cond = _Conductor(api_url)
    cond._volume_api = volumes = fake_volume.API()
    vol = volumes.create(ctx, 1, "root")
    first, second = new_instance(), new_instance()
    template = [BlockDeviceMapping(
        uuid=str(uuid.uuid4()), instance_uuid=first.uuid, source_type="volume",
        destination_type="volume", boot_index=0, volume_id=vol["id"],
        attachment_id=volumes.attachment_create(ctx, vol["id"], first.uuid)["id"])]
    mine, theirs = for_instance(template, first.uuid), for_instance(template, second.uuid)
    assert mine[0].uuid == template[0].uuid and theirs[0].uuid != template[0].uuid
    assert for_instance(template, second.uuid)[0].uuid == theirs[0].uuid  # stable
    for inst, bdms in ((first, mine), (second, theirs)):
        spec = RequestSpec(instance_uuid=inst.uuid, flavor=inst.flavor, project_id="p1",
                           block_device_mappings=bdms, is_bfv=True)
        cells_db.build_request_create(api_url, inst.uuid, "p1", "u1",
                                      inst.obj_to_primitive(), spec.obj_to_primitive())

    from nova_lite.conductor.block_devices import writable

    cell1 = mapped_cells["cell1"]
    requested = [(b.uuid, writable(b)) for b in cond._bdms_of_spec(first.uuid)]
    inst_db.instance_create_with_action(cell1, first, "cell1", "req-1", "u1", "p1",
                                        bdms=requested)
    # a replay adds nothing
    inst_db.instance_create_with_action(cell1, first, "cell1", "req-1", "u1", "p1",
                                        bdms=requested)
    rows = bdm_db.bdm_list(cell1, [first.uuid])[first.uuid]
    assert [(b.uuid, b.volume_id, b.boot_index) for b in rows] == [
        (mine[0].uuid, vol["id"], 0)]

    assert volumes.get(ctx, vol["id"])["status"] == "reserved"
    cond._release_reserved_volumes(ctx, first.uuid)
    assert volumes.get(ctx, vol["id"])["status"] == "available"
    cond._release_reserved_volumes(ctx, first.uuid)  # already gone: no error


def test_actions_refused_for_volume_backed_servers(api_url: str, mapped_cells: dict) -> None:
    cond = _Conductor(api_url)
    cell1 = mapped_cells["cell1"]
    inst = create_instance(cell1, new_instance(), "cell1")
    cond._refuse_if_volume_backed(cell1, inst.uuid, "resize")  # no mappings: fine
    bdm_db.bdm_create(cell1, inst.uuid, dict(VOL, boot_index=0, volume_id="v"))
    with pytest.raises(exception.Invalid, match="booted from a volume"):
        cond._refuse_if_volume_backed(cell1, inst.uuid, "createImage")
    with pytest.raises(exception.Invalid, match="Cannot rescue a volume-backed instance"):
        cond._refuse_if_volume_backed(cell1, inst.uuid, "rescue")


def test_listed_instances_carry_their_attached_volumes(cell_url: str) -> None:
    """A list reads each page's volumes with its servers (the view needs no other call):
    volumes only, boot disk first, detached ones gone."""
    inst = create_instance(cell_url, new_instance(), "cell1")
    bare = create_instance(cell_url, new_instance(), "cell1")
    bdm_db.bdm_create(cell_url, inst.uuid, dict(VOL, volume_id="vol-data"))
    bdm_db.bdm_create(cell_url, inst.uuid, dict(VOL, volume_id="vol-root", boot_index=0,
                                                delete_on_termination=True))
    bdm_db.bdm_create(cell_url, inst.uuid, {"source_type": "blank",
                                            "destination_type": "local", "boot_index": -1})
    gone = bdm_db.bdm_create(cell_url, inst.uuid, dict(VOL, volume_id="vol-gone"))
    bdm_db.bdm_destroy(cell_url, gone.uuid)
    listed = {i.uuid: i for i in inst_db.instance_list(cell_url, "cell1")}
    assert listed[inst.uuid].volumes_attached == [
        {"id": "vol-root", "delete_on_termination": True},
        {"id": "vol-data", "delete_on_termination": False}]
    assert listed[bare.uuid].volumes_attached == []
    # A show reads them the same way (the conductor's server_get asks for them).
    shown = inst_db.instance_get(cell_url, inst.uuid, "cell1", with_volumes=True)
    assert shown.volumes_attached == listed[inst.uuid].volumes_attached
    assert not shown.obj_what_changed()
    assert not inst_db.instance_get(cell_url, inst.uuid, "cell1").obj_attr_is_set(
        "volumes_attached")  # other readers do not pay for them


@pytest.mark.parametrize("volumes", [4, 30])
def test_a_shown_server_reads_its_volumes_and_tags_in_its_own_row(cell_url: str,
                                                                   volumes: int) -> None:
    """A show reads the volumes and tags joined into the server's row: in the same
    order as a list's, also when the joined text is long enough to have been cut
    (30 volumes, 50 tags of 40 characters: read again row by row)."""
    tags = [f"{n:02d}" + "t" * 38 for n in range(50)] if volumes > 4 else ["b", "a", "C"]
    inst = create_instance(cell_url, new_instance(tags=tags), "cell1")
    for n in range(volumes):
        bdm_db.bdm_create(cell_url, inst.uuid, dict(
            VOL, volume_id=str(uuid.uuid4()), boot_index=(None, 1, -1, 0)[n % 4],
            delete_on_termination=n % 3 == 0))
    listed = inst_db.instance_list(cell_url, "cell1", filters={"uuids": [inst.uuid]})
    shown = inst_db.instance_get(cell_url, inst.uuid, "cell1", with_volumes=True)
    assert shown.volumes_attached == listed[0].volumes_attached
    assert len(shown.volumes_attached) == volumes
    assert shown.volumes_attached[0]["delete_on_termination"] is True  # boot disk first
    assert shown.tags == sorted(tags) == listed[0].tags


def test_volume_extended_starts_the_servers_extend_volume_action(api_url: str,
                                                                 mapped_cells: dict) -> None:
    from nova_lite.conductor.network_tasks import NetworkTaskMixin

    class Compute:
        casts: list = []

        def external_instance_event(self, ctx, host, events):
            self.casts.append((host, events))

    class Events(NetworkTaskMixin):
        def __init__(self) -> None:
            self.cells = CellDirectory(api_url, None)
            self.compute = Compute()

    cell1 = mapped_cells["cell1"]
    inst = create_instance(cell1, new_instance(host="h1", node="h1"), "cell1")
    cells_db.build_request_create(api_url, inst.uuid, "p1", "u1", inst.obj_to_primitive(),
                                  RequestSpec(flavor=inst.flavor).obj_to_primitive())
    map_to_cell(api_url, inst.uuid, mapped_cells["cell1_uuid"])
    cells_db.build_request_delete(api_url, inst.uuid)
    ctx = context.RequestContext(user_id="cinder", project_id="service",
                                 request_id="req-extend")
    ev = {"name": "volume-extended", "server_uuid": inst.uuid, "tag": "vol-1",
          "status": "completed"}
    events = Events()
    [result] = events.external_instance_event(ctx, [ev])
    assert result["code"] == 200 and events.compute.casts == [("h1", [ev])]
    [action] = inst_db.action_list(cell1, inst.uuid, request_id="req-extend")
    assert action.action == "extend_volume" and action.user_id == "cinder"
