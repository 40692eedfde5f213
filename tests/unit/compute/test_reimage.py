"""Rebuild of a volume-backed server from 2.93 on the compute host, with the fake driver
and the in-memory Cinder: the guest goes, the root volume's attachment is replaced by a
reservation, Cinder re-images it and sends volume-reimaged (routed to the host's
external_instance_event, as os-server-external-events does), the volume is exported
here again, the new guest boots from it and the attachment is completed. A refusal, a
failed event or none in time leave the server ERROR with a fault that says why and the
volume reserved by the one attachment its mapping names."""

from __future__ import annotations

import pytest

from nova_lite.compute import states
from nova_lite.conf import CONF
from tests.unit.compute.test_compute_manager import _ctx
from tests.unit.compute import test_move_volumes as mv

hosts, cinder = mv.hosts, mv.cinder  # the same fixtures
NEW_IMAGE = "22222222-2222-4222-8222-222222222222"


class _Images:
    def __init__(self) -> None:
        self.images = {NEW_IMAGE: {"id": NEW_IMAGE, "size": 3 * 1024 ** 3 + 1,
                                   "disk_format": "raw", "properties": {}}}

    def show(self, ctx, image_id):
        from nova_lite import exception

        if image_id not in self.images:
            raise exception.ImageNotFound(image_id=image_id)
        return dict(self.images[image_id])


@pytest.fixture
def h1(hosts, cinder):
    mgr = hosts["h1"]
    mgr.image_api = _Images()

    def reimaged(server, volume_id, status):  # Cinder -> API -> conductor -> host
        mgr.external_instance_event(_ctx(), [{"name": "volume-reimaged",
                                              "server_uuid": server, "tag": volume_id,
                                              "status": status}])
    cinder.on_reimaged = reimaged
    return mgr


def _rebuild(mgr, inst, orig=states.ACTIVE):
    inst.task_state = states.REBUILDING
    mgr.rebuild_instance(_ctx(), inst, orig, False, NEW_IMAGE)


def _root(mgr, inst):
    return next(b for b in mgr.conductor.bdms[inst.uuid] if b.boot_index == 0)


def test_rebuild_reimages_the_root_volume_and_boots_from_it(h1, cinder):
    inst = mv._server_with_volumes(h1, cinder, volume_backed=True)
    root = _root(h1, inst)
    data = next(b for b in h1.conductor.bdms[inst.uuid] if b.boot_index != 0)
    old_root_att, data_att = root.attachment_id, data.attachment_id
    cinder.calls.clear()

    _rebuild(h1, inst)
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None), h1.conductor.faults
    root = _root(h1, inst)
    vol = cinder.volumes[root.volume_id]
    assert vol["volume_image_metadata"]["image_id"] == NEW_IMAGE
    assert root.image_id == NEW_IMAGE  # where the volume's content now comes from
    # Reservation first, old attachment gone, re-image, export here, complete.
    assert [c for c, _ in cinder.calls if c != "get"] == [
        "attachment_create", "attachment_delete", "reimage", "attachment_update",
        "attachment_complete"]
    assert root.attachment_id != old_root_att
    assert mv._attachments(cinder, inst) == {root.volume_id: [("h1", "attached")],
                                             data.volume_id: [("h1", "attached")]}
    assert vol["status"] == "in-use"
    assert data.attachment_id == data_att  # a data volume keeps its attachment
    guest = h1.driver.volumes_of(inst.uuid)
    assert guest[root.volume_id]["connection_info"]["attachment_id"] == root.attachment_id
    assert set(guest) == {root.volume_id, data.volume_id}
    assert (inst.uuid, "compute_rebuild_instance", "finish", "Success") in \
        h1.conductor.events


def test_a_stopped_server_stays_stopped(h1, cinder):
    inst = mv._server_with_volumes(h1, cinder, volume_backed=True)
    _rebuild(h1, inst, orig=states.STOPPED)
    assert (inst.vm_state, inst.task_state) == (states.STOPPED, None), h1.conductor.faults
    assert cinder.volumes[_root(h1, inst).volume_id]["status"] == "in-use"


def _failed(h1, cinder, inst, message):
    assert (inst.vm_state, inst.task_state) == (states.ERROR, None)
    [fault] = [f for f in h1.conductor.faults if f[0] == inst.uuid][-1:]
    assert message in str(fault), h1.conductor.faults
    root = _root(h1, inst)
    # The volume is held by the one attachment the mapping names: a reservation.
    assert [a["id"] for a in cinder.attachments.values()
            if a["volume_id"] == root.volume_id] == [root.attachment_id]
    assert not root.connection_info
    assert inst.uuid not in h1.driver.list_instance_uuids()
    return root


def test_cinder_refusing_the_reimage_is_an_error_that_says_so(h1, cinder, monkeypatch):
    inst = mv._server_with_volumes(h1, cinder, volume_backed=True)

    def refuse(ctx, volume_id, image_id, reimage_reserved=True):
        from nova_lite import exception
        raise exception.InvalidVolume(reason="Image virtual size is 3GB and doesn't fit "
                                             "in a volume of size 1GB.")
    monkeypatch.setattr(cinder, "reimage", refuse)
    _rebuild(h1, inst)
    root = _failed(h1, cinder, inst, "Cinder refused to re-image volume")
    assert cinder.volumes[root.volume_id]["status"] == "reserved"
    # The server can be deleted: every attachment and the volume go.
    h1.terminate_instance(_ctx(), inst)
    assert mv._attachments(cinder, inst) == {}


def test_a_failed_volume_reimaged_event_is_an_error(h1, cinder):
    inst = mv._server_with_volumes(h1, cinder, volume_backed=True)
    cinder.reimage_fails = True
    _rebuild(h1, inst)
    root = _failed(h1, cinder, inst, f"volume-reimaged {_root(h1, inst).volume_id} failed")
    assert cinder.volumes[root.volume_id]["status"] == "error"


def test_no_event_in_time_is_an_error(h1, cinder, monkeypatch):
    inst = mv._server_with_volumes(h1, cinder, volume_backed=True)
    cinder.reimage_silent = True
    waits = []
    real = h1.events.wait_for_instance_event

    def short(uuid, events, timeout, what=None):
        waits.append(timeout)
        return real(uuid, events, 0.05, what=what)
    monkeypatch.setattr(h1.events, "wait_for_instance_event", short)
    _rebuild(h1, inst)
    _failed(h1, cinder, inst, "no volume-reimaged for")
    # [DEFAULT] reimage_timeout_per_gb for each GiB of the image (3 GiB and a byte: 4)
    assert waits == [CONF.reimage_timeout_per_gb * 4]


def test_a_rebuild_again_after_a_failure_reimages_the_reserved_volume(h1, cinder):
    inst = mv._server_with_volumes(h1, cinder, volume_backed=True)
    cinder.reimage_fails = True
    _rebuild(h1, inst)
    assert inst.vm_state == states.ERROR
    cinder.reimage_fails = False
    cinder.volumes[_root(h1, inst).volume_id]["status"] = "reserved"  # an admin's reset
    _rebuild(h1, inst, orig=states.ERROR)
    assert (inst.vm_state, inst.task_state) == (states.ACTIVE, None), h1.conductor.faults
    root = _root(h1, inst)
    assert mv._attachments(cinder, inst)[root.volume_id] == [("h1", "attached")]
    assert len([a for a in cinder.attachments.values()
                if a["volume_id"] == root.volume_id]) == 1
