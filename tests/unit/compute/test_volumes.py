"""Volume attach and detach on the compute host: the fake driver, the fake volume API,
and an in-memory conductor keeping the block device mappings."""

from __future__ import annotations

import json
import uuid

import pytest

from nova_lite import context, exception
from nova_lite.compute import manager, states
from nova_lite.conf import CONF
from nova_lite.objects.block_device import BlockDeviceMapping
from nova_lite.virt import fake as fake_driver
from tests import fake_volume
from tests.unit.compute.test_compute_manager import FakeConductor, _instance


class BdmConductor(FakeConductor):
    def __init__(self) -> None:
        super().__init__()
        self.bdms: dict[str, BlockDeviceMapping] = {}

    def bdm_update(self, ctx, instance_uuid, bdm_uuid, values):
        bdm = self.bdms[bdm_uuid]
        for k, v in values.items():
            setattr(bdm, k, v)
        return bdm

    def bdm_destroy(self, ctx, instance_uuid, bdm_uuid):
        self.bdms.pop(bdm_uuid, None)

    def bdm_list_by_instance(self, ctx, instance_uuid):
        from nova_lite.objects.block_device import BlockDeviceMappingList

        return BlockDeviceMappingList.of([b for b in self.bdms.values()
                                          if b.instance_uuid == instance_uuid])

    def bdm_list_by_instances(self, ctx, instance_uuids):
        return {u: [b for b in self.bdms.values() if b.instance_uuid == u]
                for u in instance_uuids}


@pytest.fixture
def setup(monkeypatch):
    cond = BdmConductor()
    mgr = manager.ComputeManager("h1", conductor=cond,
                                 driver=fake_driver.FakeDriver("h1", None, CONF))
    mgr.driver.init_host(mgr._lifecycle_event)
    volumes = fake_volume.API()
    mgr._volume_api = volumes
    monkeypatch.setattr("nova_lite.volume.configured", lambda conf: True)
    inst = _instance(vm_state=states.BUILDING)
    cond.instances[inst.uuid] = inst
    ctx = context.RequestContext(user_id="u", project_id="p")
    mgr.build_and_run_instance(ctx, inst)
    return mgr, cond, volumes, inst, ctx


def _reserve(cond, volumes, inst, ctx, volume_type=None
             ) -> tuple[dict, BlockDeviceMapping]:
    vol = volumes.create(ctx, 1, "v", volume_type=volume_type)
    att = volumes.attachment_create(ctx, vol["id"], inst.uuid)
    bdm = BlockDeviceMapping(uuid=str(uuid.uuid4()), instance_uuid=inst.uuid,
                             source_type="volume", destination_type="volume",
                             volume_id=vol["id"], attachment_id=att["id"],
                             device_name="/dev/vdb", boot_index=None)
    cond.bdms[bdm.uuid] = bdm
    return vol, bdm


def test_attach_connects_plugs_and_completes_then_detach_undoes_it(setup):
    mgr, cond, volumes, inst, ctx = setup
    vol, bdm = _reserve(cond, volumes, inst, ctx)
    out = mgr.attach_volume(ctx, inst, bdm)
    assert [c[0] for c in volumes.calls][-3:] == ["attachment_update", "get",
                                                   "attachment_complete"]
    assert out.device_name == "/dev/vdb"
    assert volumes.get(ctx, vol["id"])["status"] == "in-use"
    info = json.loads(cond.bdms[bdm.uuid].connection_info)
    assert info["driver_volume_type"] == "rbd" and info["attachment_id"] == bdm.attachment_id
    plugged = mgr.driver.volumes_of(inst.uuid)[vol["id"]]
    assert plugged["mountpoint"] == "/dev/vdb" and plugged["connection_info"] == info
    mgr.detach_volume(ctx, inst, cond.bdms[bdm.uuid])
    assert volumes.get(ctx, vol["id"])["status"] == "available"
    assert mgr.driver.volumes_of(inst.uuid) == {} and cond.bdms == {}
    assert (inst.uuid, "compute_detach_volume", "finish", "Success") in cond.events


def test_a_multiattach_volume_is_connected_as_shared(setup):
    mgr, cond, volumes, inst, ctx = setup
    vol, bdm = _reserve(cond, volumes, inst, ctx, fake_volume.MULTIATTACH_TYPE)
    mgr.attach_volume(ctx, inst, bdm)
    assert json.loads(cond.bdms[bdm.uuid].connection_info)["multiattach"] is True
    plugged = mgr.driver.volumes_of(inst.uuid)[vol["id"]]["connection_info"]
    assert plugged["multiattach"] is True and plugged["driver_volume_type"] == "rbd"
    other, obdm = _reserve(cond, volumes, inst, ctx)
    obdm.device_name = "/dev/vdc"
    mgr.attach_volume(ctx, inst, obdm)
    assert "multiattach" not in json.loads(cond.bdms[obdm.uuid].connection_info)


def test_a_failed_connect_leaves_no_attachment_reserved(setup, monkeypatch):
    mgr, cond, volumes, inst, ctx = setup
    vol, bdm = _reserve(cond, volumes, inst, ctx)

    def refuse(*args):
        raise exception.VolumeDriverNotFound(driver_type="iscsi")
    monkeypatch.setattr(mgr.driver, "attach_volume", refuse)
    with pytest.raises(exception.VolumeDriverNotFound):
        mgr.attach_volume(ctx, inst, bdm)
    assert volumes.get(ctx, vol["id"])["status"] == "available"
    assert volumes.attachments == {}
    assert (inst.uuid, "compute_attach_volume", "finish", "Error") in \
        [e[:4] for e in cond.events]


def test_restart_undoes_an_interrupted_attach(setup):
    mgr, cond, volumes, inst, ctx = setup
    done_vol, done = _reserve(cond, volumes, inst, ctx)
    mgr.attach_volume(ctx, inst, done)
    half_vol, half = _reserve(cond, volumes, inst, ctx)
    half.device_name = "/dev/vdc"
    volumes.attachment_update(ctx, half.attachment_id, {"host": "h1"})  # then a crash
    mgr.init_host()
    assert volumes.get(ctx, half_vol["id"])["status"] == "available"
    assert volumes.get(ctx, done_vol["id"])["status"] == "in-use"
    assert list(cond.bdms) == [done.uuid]


def test_swap_moves_the_disk_to_the_new_volume_and_releases_the_old(setup, monkeypatch):
    mgr, cond, volumes, inst, ctx = setup
    old_vol, bdm = _reserve(cond, volumes, inst, ctx)
    mgr.attach_volume(ctx, inst, bdm)
    new_vol = volumes.create(ctx, 1, "n")
    att = volumes.attachment_create(ctx, new_vol["id"], inst.uuid)
    out = mgr.swap_volume(ctx, inst, cond.bdms[bdm.uuid], new_vol["id"], att["id"])
    assert (out.volume_id, out.attachment_id) == (new_vol["id"], att["id"])
    assert volumes.get(ctx, old_vol["id"])["status"] == "available"
    assert volumes.get(ctx, new_vol["id"])["status"] == "in-use"
    assert list(mgr.driver.volumes_of(inst.uuid)) == [new_vol["id"]]
    # a swap that fails leaves the new volume free and the guest on the old one
    other = volumes.create(ctx, 1, "o")
    att = volumes.attachment_create(ctx, other["id"], inst.uuid)
    def stuck(*args):
        raise exception.DriverFailure(reason="the block copy stopped")
    monkeypatch.setattr(mgr.driver, "swap_volume", stuck)
    with pytest.raises(exception.DriverFailure):
        mgr.swap_volume(ctx, inst, cond.bdms[bdm.uuid], other["id"], att["id"])
    mgr.driver.volumes_of(inst.uuid)[new_vol["id"]]  # still there
    assert volumes.get(ctx, other["id"])["status"] == "available"


def test_volume_extended_grows_the_guest_disk_to_cinders_size(setup):
    mgr, cond, volumes, inst, ctx = setup
    vol, bdm = _reserve(cond, volumes, inst, ctx)
    mgr.attach_volume(ctx, inst, bdm)
    volumes.volumes[vol["id"]]["size"] = 3  # Cinder extended it
    mgr.external_instance_event(ctx, [{"name": "volume-extended", "server_uuid": inst.uuid,
                                       "tag": vol["id"], "status": "completed"}])
    assert mgr.driver.volumes_of(inst.uuid)[vol["id"]]["size"] == 3 * 1024 ** 3
    assert cond.bdms[bdm.uuid].volume_size == 3
    assert (inst.uuid, "compute_extend_volume", "finish", "Success") in cond.events


def test_volume_extended_for_a_volume_the_server_lacks_is_ignored(setup):
    mgr, cond, volumes, inst, ctx = setup
    other = volumes.create(ctx, 1, "not attached")
    mgr.external_instance_event(ctx, [{"name": "volume-extended", "server_uuid": inst.uuid,
                                       "tag": other["id"], "status": "completed"}])
    assert not [e for e in cond.events if e[1] == "compute_extend_volume"]


def test_volume_extended_failing_in_the_driver_is_an_error_event(setup, monkeypatch):
    mgr, cond, volumes, inst, ctx = setup
    vol, bdm = _reserve(cond, volumes, inst, ctx)
    mgr.attach_volume(ctx, inst, bdm)

    def broken(*args):
        raise exception.DriverFailure(reason="no resize here")
    monkeypatch.setattr(mgr.driver, "extend_volume", broken)
    mgr.extend_volume(ctx, inst.uuid, vol["id"])
    assert [e[3] for e in cond.events if e[1] == "compute_extend_volume"] == [None, "Error"]
