"""Shelve/offload/unshelve, snapshots and backups, rescue, crash dump, password and
diagnostics on the compute host (fake driver, in-memory conductor, real local image
store), including what a restart in the middle of each leaves."""

from __future__ import annotations

import datetime
import json
from typing import Iterator

import pytest

from nova_lite import context, exception
from nova_lite.compute import manager, states
from nova_lite.conf import CONF
from nova_lite.image.api import HostImageSource
from nova_lite.image.local import LocalImageStore
from nova_lite.virt import driver as virt_driver
from nova_lite.virt import fake
from tests.unit.compute.test_compute_manager import FakeConductor, _instance


@pytest.fixture
def set_conf() -> Iterator:
    done: list[tuple[str, str | None]] = []

    def _set(name: str, value: object, group: str | None = None) -> None:
        CONF.set_override(name, value, group)
        done.append((name, group))

    yield _set
    for name, group in done:
        CONF.clear_override(name, group)


@pytest.fixture
def mgr(tmp_path, set_conf):
    set_conf("instances_path", str(tmp_path / "instances"))
    set_conf("shelved_offload_time", -1)
    store = LocalImageStore(str(tmp_path / "images"))
    m = manager.ComputeManager("h1", conductor=FakeConductor(),
                               driver=fake.FakeDriver("h1", HostImageSource(store), CONF))
    m.image_api = store
    m.driver.init_host(m._lifecycle_event)
    src = tmp_path / "base.raw"
    src.write_bytes(b"base")
    m.base_image = store.import_file(None, str(src), {
        "name": "base", "disk_format": "raw", "container_format": "bare",
        "visibility": "public", "properties": {"os_distro": "x"}})
    return m


def _ctx():
    return context.RequestContext(user_id="u", project_id="p")


def _active(mgr, **kw):
    inst = _instance(image_ref=mgr.base_image["id"], **kw)
    mgr.conductor.instances[inst.uuid] = inst
    mgr.build_and_run_instance(_ctx(), inst)
    assert inst.vm_state == states.ACTIVE
    return inst


def _start(mgr, inst, action, **params):
    """What the conductor does before casting: check and set the task."""
    t = states.check(action, inst.uuid, inst.vm_state, inst.task_state)
    inst.task_state = t.task_state
    mgr.run_action(_ctx(), inst, action, params)


def _queued(mgr, inst, image_type="snapshot", **props):
    # as the API does: created by the user, so owned by the user's project
    return mgr.image_api.create(_ctx(), {"name": f"{inst.display_name}-img", "properties": dict(
        instance_uuid=inst.uuid, image_type=image_type, **props)})["id"]


def _events(mgr, uuid):
    return [(e, phase, result) for u, e, phase, result in mgr.conductor.events if u == uuid]


# -- shelve ----------------------------------------------------------------------------------

def test_shelve_keeps_guest_and_claim_when_offload_is_off(mgr):
    inst = _active(mgr)
    image_id = _queued(mgr, inst)
    _start(mgr, inst, "shelve", image_id=image_id)
    assert (inst.vm_state, inst.task_state) == (states.SHELVED, None)
    assert inst.power_state == virt_driver.SHUTDOWN and inst.host == "h1"
    assert inst.system_metadata["shelved_image_id"] == image_id
    assert inst.system_metadata["shelved_host"] == "h1"
    assert inst.system_metadata["shelved_at"]
    image = mgr.image_api.show(None, image_id)
    assert image["status"] == "active" and image["disk_format"] == "raw"
    assert json.loads(b"".join(mgr.image_api.open(None, image_id)))["fake_snapshot_of"] == \
        inst.uuid
    assert mgr.conductor.released == []
    assert inst.uuid in mgr.driver.list_instance_uuids()
    assert ("compute_shelve_instance", "finish", "Success") in _events(mgr, inst.uuid)


def test_shelve_with_offload_time_0_offloads_at_once(mgr, set_conf):
    set_conf("shelved_offload_time", 0)
    inst = _active(mgr)
    _start(mgr, inst, "shelve", image_id=_queued(mgr, inst))
    assert (inst.vm_state, inst.task_state) == (states.SHELVED_OFFLOADED, None)
    assert (inst.host, inst.node, inst.power_state) == (None, None, virt_driver.NOSTATE)
    assert mgr.conductor.released == [inst.uuid]
    assert mgr.driver.list_instance_uuids() == []


def test_failed_shelve_deletes_its_image_and_leaves_a_stopped_server(mgr):
    inst = _active(mgr, metadata={"fake_snapshot_error": "1"})
    image_id = _queued(mgr, inst)
    _start(mgr, inst, "shelve", image_id=image_id)
    assert (inst.vm_state, inst.task_state) == (states.STOPPED, None)
    assert "shelved_image_id" not in inst.system_metadata
    with pytest.raises(exception.ImageNotFound):
        mgr.image_api.show(None, image_id)
    assert mgr.conductor.faults[-1][2] == "fake snapshot failure requested by metadata"
    assert ("compute_shelve_instance", "finish", "Error") in _events(mgr, inst.uuid)


def test_shelve_offload_action_and_periodic_offload(mgr, set_conf):
    a, b = _active(mgr), _active(mgr)
    for inst in (a, b):
        _start(mgr, inst, "shelve", image_id=_queued(mgr, inst))
    _start(mgr, a, "shelveOffload")
    assert a.vm_state == states.SHELVED_OFFLOADED and a.host is None
    assert mgr.conductor.released == [a.uuid]
    set_conf("shelved_offload_time", 3600)
    mgr.poll_shelved_instances(_ctx())
    assert b.vm_state == states.SHELVED  # shelved just now
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=2)
    b.system_metadata = dict(b.system_metadata,
                             shelved_at=old.strftime("%Y-%m-%dT%H:%M:%S.%f"))
    mgr.poll_shelved_instances(_ctx())
    assert b.vm_state == states.SHELVED_OFFLOADED and b.host is None
    assert mgr.conductor.released == [a.uuid, b.uuid]


def test_power_sync_leaves_shelved_servers_shelved(mgr):
    inst = _active(mgr)
    _start(mgr, inst, "shelve", image_id=_queued(mgr, inst))
    mgr.sync_power_states(_ctx())
    assert inst.vm_state == states.SHELVED


def test_power_sync_reads_each_server_again_under_its_lock(mgr):
    """An action that ended after the sync listed its servers is not undone from the
    list's old state: a soft delete (which powered the guest off) stays SOFT_DELETED."""
    inst = _active(mgr)
    listed = inst.obj_clone()  # ACTIVE, no task: what the sync's list read
    mgr.conductor.instance_list_by_host = lambda ctx, host: [listed]
    _start(mgr, inst, "soft_delete")
    assert inst.vm_state == states.SOFT_DELETED
    mgr.sync_power_states(_ctx())
    assert inst.vm_state == states.SOFT_DELETED


# -- unshelve --------------------------------------------------------------------------------

def test_unshelve_in_place_starts_the_guest_and_drops_the_image(mgr):
    inst = _active(mgr)
    image_id = _queued(mgr, inst)
    _start(mgr, inst, "shelve", image_id=image_id)
    _start(mgr, inst, "unshelve")
    assert (inst.vm_state, inst.task_state, inst.power_state) == (
        states.ACTIVE, None, virt_driver.RUNNING)
    assert not set(inst.system_metadata) & {"shelved_image_id", "shelved_at"}
    with pytest.raises(exception.ImageNotFound):
        mgr.image_api.show(None, image_id)


def test_unshelve_after_offload_spawns_from_the_shelved_image(mgr, set_conf):
    set_conf("shelved_offload_time", 0)
    inst = _active(mgr)
    image_id = _queued(mgr, inst)
    _start(mgr, inst, "shelve", image_id=image_id)
    inst.host, inst.node = "h1", "h1"  # the conductor scheduled and claimed h1
    _start(mgr, inst, "unshelve")
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None)
    assert mgr.driver._guests[inst.uuid]["image_id"] == image_id
    assert inst.image_ref == mgr.base_image["id"]  # the server still names its image
    with pytest.raises(exception.ImageNotFound):
        mgr.image_api.show(None, image_id)
    assert ("compute_unshelve_instance", "finish", "Success") in _events(mgr, inst.uuid)


def test_failed_unshelve_goes_back_to_offloaded_on_no_host(mgr, set_conf):
    set_conf("shelved_offload_time", 0)
    inst = _active(mgr)
    image_id = _queued(mgr, inst)
    _start(mgr, inst, "shelve", image_id=image_id)
    mgr.image_api.delete(None, image_id)  # somebody deleted the shelved image
    inst.host, inst.node = "h1", "h1"
    _start(mgr, inst, "unshelve")
    assert (inst.vm_state, inst.task_state) == (states.SHELVED_OFFLOADED, None)
    assert inst.host is None and mgr.conductor.released == [inst.uuid, inst.uuid]
    assert mgr.driver.list_instance_uuids() == []


# -- snapshots and backups -------------------------------------------------------------------

@pytest.mark.parametrize("action", ["pause", "stop", None])
def test_snapshot_keeps_the_power_state(mgr, action):
    inst = _active(mgr)
    if action:
        _start(mgr, inst, action)
    before = (inst.vm_state, inst.power_state)
    image_id = _queued(mgr, inst)
    _start(mgr, inst, "createImage", image_id=image_id)
    assert (inst.vm_state, inst.power_state, inst.task_state) == (*before, None)
    assert mgr.image_api.show(None, image_id)["status"] == "active"
    assert ("compute_snapshot_instance", "finish", "Success") in _events(mgr, inst.uuid)


def test_failed_snapshot_deletes_the_image(mgr):
    inst = _active(mgr, metadata={"fake_snapshot_error": "1"})
    image_id = _queued(mgr, inst)
    _start(mgr, inst, "createImage", image_id=image_id)
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None)
    with pytest.raises(exception.ImageNotFound):
        mgr.image_api.show(None, image_id)
    assert ("compute_snapshot_instance", "finish", "Error") in _events(mgr, inst.uuid)


def test_backups_rotate_per_type(mgr, monkeypatch):
    from nova_lite.image import local

    ticks = iter(range(10, 60))  # one creation time per second, as if made apart
    monkeypatch.setattr(local, "_now", lambda: f"2026-01-01T00:00:{next(ticks)}Z")
    inst = _active(mgr)
    made = []
    for _ in range(3):
        image_id = _queued(mgr, inst, "backup", backup_type="daily")
        _start(mgr, inst, "createBackup", image_id=image_id, backup_type="daily",
               rotation=2)
        made.append(image_id)
    weekly = _queued(mgr, inst, "backup", backup_type="weekly")
    _start(mgr, inst, "createBackup", image_id=weekly, backup_type="weekly", rotation=1)
    kept = {i["id"] for i in mgr.image_api.list(None, {"instance_uuid": inst.uuid})}
    assert kept == {made[1], made[2], weekly}
    zero = _queued(mgr, inst, "backup", backup_type="daily")
    _start(mgr, inst, "createBackup", image_id=zero, backup_type="daily", rotation=0)
    assert {i["id"] for i in mgr.image_api.list(None, {"instance_uuid": inst.uuid})} == {weekly}


# -- rescue, crash dump, password, diagnostics -----------------------------------------------

def test_rescue_and_unrescue(mgr):
    inst = _active(mgr)
    _start(mgr, inst, "rescue", rescue_image_ref=None, admin_password="pw")
    assert (inst.vm_state, inst.task_state) == (states.RESCUED, None)
    assert mgr.driver._guests[inst.uuid]["rescue_image_id"] == mgr.base_image["id"]
    assert mgr.driver._guests[inst.uuid]["rescue_device"] is None  # legacy rescue
    mgr.sync_power_states(_ctx())
    assert inst.vm_state == states.RESCUED
    _start(mgr, inst, "unrescue")
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None)
    assert mgr.driver._guests[inst.uuid]["rescue_image_id"] is None


def test_stable_device_rescue_records_the_device_and_bus(mgr):
    inst = _active(mgr)
    mgr.image_api.update(None, mgr.base_image["id"],
                         properties={"hw_rescue_device": "cdrom", "hw_rescue_bus": "scsi"})
    _start(mgr, inst, "rescue", rescue_image_ref=mgr.base_image["id"], admin_password="pw")
    assert (inst.vm_state, inst.task_state) == (states.RESCUED, None)
    assert mgr.driver._guests[inst.uuid]["rescue_device"] == {"device": "cdrom",
                                                             "bus": "scsi"}
    _start(mgr, inst, "unrescue")
    assert mgr.driver._guests[inst.uuid]["rescue_device"] is None


def test_rescue_with_missing_image_fails_cleanly(mgr):
    inst = _active(mgr)
    _start(mgr, inst, "rescue", rescue_image_ref="6c2ab9b5-ae1f-45d2-bbf0-42bd57d0f54c",
           admin_password="pw")
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None)
    assert ("compute_rescue_instance", "finish", "Error") in _events(mgr, inst.uuid)


def test_crash_dump(mgr):
    inst = _active(mgr)
    _start(mgr, inst, "trigger_crash_dump")
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None)
    assert "fake NMI received" in mgr.get_console_output(_ctx(), inst, None)
    assert ("compute_trigger_crash_dump", "finish", "Success") in _events(mgr, inst.uuid)


def test_set_admin_password(mgr):
    inst = _active(mgr)
    inst.task_state = states.UPDATING_PASSWORD
    mgr.set_admin_password(_ctx(), inst, "n3w")
    assert mgr.driver._guests[inst.uuid]["password"] == "n3w"
    assert inst.task_state is None
    other = _active(mgr, metadata={"fake_no_agent": "1"})
    other.task_state = states.UPDATING_PASSWORD
    with pytest.raises(exception.InstanceAgentNotEnabled) as err:
        mgr.set_admin_password(_ctx(), other, "n3w")
    assert err.value.code == 409
    assert other.task_state is None
    assert ("compute_set_admin_password", "finish", "Error") in _events(mgr, other.uuid)


def test_diagnostics(mgr):
    inst = _active(mgr)
    diag = mgr.get_diagnostics(_ctx(), inst)
    assert diag["state"] == "running" and diag["num_cpus"] == 1
    assert diag["memory_details"]["maximum"] == 512
    mgr.driver.destroy(manager.instance_spec(inst))
    with pytest.raises(exception.InstanceNotReady):
        mgr.get_diagnostics(_ctx(), inst)


# -- restarts in the middle ------------------------------------------------------------------

def test_restart_mid_shelve_upload_drops_the_image_and_keeps_the_claim(mgr):
    inst = _active(mgr)
    image_id = _queued(mgr, inst)
    mgr.driver.power_off(manager.instance_spec(inst))
    inst.task_state = states.SHELVING_IMAGE_UPLOADING
    inst.system_metadata = {"shelved_image_id": image_id}
    mgr.init_host()
    assert (inst.vm_state, inst.task_state) == (states.STOPPED, None)
    assert "shelved_image_id" not in inst.system_metadata
    assert mgr.image_api.list(None, {"instance_uuid": inst.uuid}) == []
    assert mgr.conductor.released == [] and inst.host == "h1"


def test_restart_after_shelve_upload_finishes_the_shelve(mgr, set_conf, tmp_path):
    set_conf("shelved_offload_time", 0)
    inst = _active(mgr)
    image_id = _queued(mgr, inst)
    mgr.image_api.upload(None, image_id, [b"s"], disk_format="raw", container_format="bare")
    mgr.driver.power_off(manager.instance_spec(inst))
    inst.task_state = states.SHELVING_IMAGE_UPLOADING
    inst.system_metadata = {"shelved_image_id": image_id}
    mgr.init_host()
    assert (inst.vm_state, inst.task_state, inst.host) == (states.SHELVED_OFFLOADED, None,
                                                           None)
    assert mgr.conductor.released == [inst.uuid]
    assert mgr.image_api.show(None, image_id)["status"] == "active"


def test_restart_mid_offload_finishes_it(mgr):
    inst = _active(mgr)
    _start(mgr, inst, "shelve", image_id=_queued(mgr, inst))
    inst.task_state = states.SHELVING_OFFLOADING
    mgr.init_host()
    assert (inst.vm_state, inst.task_state, inst.host) == (states.SHELVED_OFFLOADED, None,
                                                           None)
    assert mgr.conductor.released == [inst.uuid]
    assert mgr.driver.list_instance_uuids() == []


def test_restart_mid_unshelve_spawn_goes_back_to_offloaded(mgr):
    inst = _instance(vm_state=states.SHELVED_OFFLOADED, task_state=states.SPAWNING,
                     system_metadata={"shelved_image_id": "x"})
    mgr.conductor.instances[inst.uuid] = inst
    mgr.driver.spawn(manager.instance_spec(inst), {})  # a partial guest
    mgr.init_host()
    assert (inst.vm_state, inst.task_state, inst.host) == (states.SHELVED_OFFLOADED, None,
                                                           None)
    assert mgr.conductor.released == [inst.uuid]
    assert mgr.driver.list_instance_uuids() == []
    assert "interrupted" in mgr.conductor.faults[-1][2]


def test_restart_mid_snapshot_brings_a_paused_guest_back(mgr):
    inst = _active(mgr)
    _start(mgr, inst, "pause")
    image_id = _queued(mgr, inst)
    spec = manager.instance_spec(inst)
    mgr.driver.power_off(spec)  # what a saved-away guest looks like after the crash
    inst.task_state = states.IMAGE_PENDING_UPLOAD
    mgr.init_host()
    assert (inst.vm_state, inst.task_state) == (states.PAUSED, None)
    assert mgr.driver.get_power_state(spec) == virt_driver.PAUSED
    with pytest.raises(exception.ImageNotFound):
        mgr.image_api.show(None, image_id)


def test_restart_mid_rescue_boots_the_own_disk(mgr):
    inst = _active(mgr)
    mgr.driver.rescue(manager.instance_spec(inst), mgr.base_image, "pw")
    inst.task_state = states.RESCUING
    mgr.init_host()
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None)
    assert mgr.driver._guests[inst.uuid]["rescue_image_id"] is None
    inst.vm_state, inst.task_state = states.RESCUED, states.UNRESCUING
    mgr.init_host()
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None)
