"""/servers/{id}/os-volume_attachments over the fake conductor and the fake volume API:
shapes by microversion, Nova's refusals, no attachment left reserved; multiattach
volumes (2.60) on several servers, detached from one, not swapped while shared."""

from __future__ import annotations

import uuid as uuidlib
from typing import Any, Optional

import pytest

from nova_lite import exception
from nova_lite.api import app as api_app
from nova_lite.compute import states
from nova_lite.context import RequestContext
from nova_lite.objects.block_device import BlockDeviceMapping
from tests import fake_volume
from tests.unit.api.conftest import ADMIN, ALICE, BOB, Client
from tests.unit.api.fake_conductor import FakeConductor

A = RequestContext(user_id="alice", project_id="proj-a", roles=["member"])
B = RequestContext(user_id="bob", project_id="proj-b", roles=["member"])
PATH = "/v2.1/servers/%s/os-volume_attachments"


class VolumeConductor(FakeConductor):
    """The fake conductor plus the mappings and the volume tasks (the host connects
    through the fake volume API at once)."""

    def __init__(self, volumes: fake_volume.API) -> None:
        super().__init__()
        self.volumes = volumes
        self.bdms: list[BlockDeviceMapping] = []
        self.fail_connect = False

    def bdm_list_by_instance(self, ctx: Any, instance_uuid: str) -> Any:
        return [b for b in self.bdms if b.instance_uuid == instance_uuid]

    def bdm_get_by_volume(self, ctx: Any, volume_id: str,
                          instance_uuid: Optional[str] = None) -> Any:
        for b in self.bdms:
            if b.volume_id == volume_id and instance_uuid in (None, b.instance_uuid):
                return b
        raise exception.VolumeBDMNotFound(volume_id=volume_id)

    def server_attach_volume(self, ctx: Any, uuid: str, volume_id: str,
                             attachment_id: str, device: Optional[str] = None,
                             tag: Optional[str] = None,
                             delete_on_termination: bool = False) -> Any:
        if self.fail_connect:
            raise exception.VolumeDriverNotFound(driver_type="iscsi")
        self.volumes.attachment_update(ctx, attachment_id, {"host": "c1"})
        self.volumes.attachment_complete(ctx, attachment_id)
        bdm = BlockDeviceMapping(
            uuid=str(uuidlib.uuid4()), instance_uuid=uuid, source_type="volume",
            destination_type="volume", volume_id=volume_id, attachment_id=attachment_id,
            device_name=device or f"/dev/vd{'bcdef'[len(self.bdms)]}", tag=tag,
            delete_on_termination=delete_on_termination, boot_index=None)
        self.bdms.append(bdm)
        return bdm

    def server_detach_volume(self, ctx: Any, uuid: str, volume_id: str) -> None:
        bdm = self.bdm_get_by_volume(ctx, volume_id, uuid)
        self.volumes.attachment_delete(ctx, bdm.attachment_id)
        self.bdms.remove(bdm)

    def server_swap_volume(self, ctx: Any, uuid: str, volume_id: str, new_volume_id: str,
                           new_attachment_id: str) -> Any:
        bdm = self.bdm_get_by_volume(ctx, volume_id, uuid)
        if self.fail_connect:
            raise exception.VolumeDriverNotFound(driver_type="iscsi")
        self.volumes.attachment_update(ctx, new_attachment_id, {"host": "c1"})
        self.volumes.attachment_complete(ctx, new_attachment_id)
        self.volumes.attachment_delete(ctx, bdm.attachment_id)
        bdm.volume_id, bdm.attachment_id = new_volume_id, new_attachment_id
        return bdm

    def server_update_volume(self, ctx: Any, uuid: str, volume_id: str,
                             delete_on_termination: bool) -> Any:
        bdm = self.bdm_get_by_volume(ctx, volume_id, uuid)
        bdm.delete_on_termination = delete_on_termination
        return bdm


@pytest.fixture
def volumes() -> fake_volume.API:
    return fake_volume.API()


@pytest.fixture
def vconductor(volumes) -> VolumeConductor:
    return VolumeConductor(volumes)


@pytest.fixture
def vclient(conf, vconductor, images, volumes) -> Client:
    return Client(api_app.build_app(conf, conductor_api=vconductor, image_api=images,
                                    volume_api=volumes))


def _attach(client, sid, vid, token=ALICE, version="2.100", **extra):
    return client.post(PATH % sid, {"volumeAttachment": {"volumeId": vid, **extra}},
                       token=token, version=version)


def test_attach_list_show_and_detach(vclient, vconductor, volumes):
    sid = vconductor.add_server().uuid
    vid = volumes.create(A, 1, "v")["id"]
    resp = _attach(vclient, sid, vid, tag="data", delete_on_termination=True)
    assert resp.status_int == 200, resp.text
    assert resp.json["volumeAttachment"] == {
        "device": "/dev/vdb", "serverId": sid, "volumeId": vid, "id": vid, "tag": "data",
        "delete_on_termination": True}
    assert volumes.get(A, vid)["status"] == "in-use"
    att = vconductor.bdms[0]
    listed = vclient.get(PATH % sid, token=ALICE, version="2.89").json["volumeAttachments"]
    assert listed == [{"device": "/dev/vdb", "serverId": sid, "volumeId": vid, "tag": "data",
                       "delete_on_termination": True, "attachment_id": att.attachment_id,
                       "bdm_uuid": att.uuid}]
    old = vclient.get(PATH % sid + "/" + vid, token=ALICE, version="2.1").json
    assert old == {"volumeAttachment": {"device": "/dev/vdb", "serverId": sid,
                                        "volumeId": vid, "id": vid}}
    resp = vclient.delete(PATH % sid + "/" + vid, token=ALICE)
    assert resp.status_int == 202
    assert volumes.get(A, vid)["status"] == "available"
    resp = vclient.get(PATH % sid + "/" + vid, token=ALICE)  # what Cinder asks
    assert resp.status_int == 404 and "is not attached to volume" in resp.text


def test_refusals(vclient, vconductor, volumes):
    sid = vconductor.add_server().uuid
    other = vconductor.add_server().uuid
    vid = volumes.create(A, 1, "v")["id"]
    theirs = volumes.create(B, 1, "w")["id"]
    assert _attach(vclient, sid, str(uuidlib.uuid4())).status_int == 404
    assert _attach(vclient, sid, theirs).status_int == 404  # not visible to proj-a
    assert _attach(vclient, sid, vid).status_int == 200
    resp = _attach(vclient, other, vid)  # in use
    assert resp.status_int == 400 and "must be 'available'" in resp.text
    resp = _attach(vclient, sid, vid)  # already here
    assert resp.status_int == 400 and "already attached" in resp.text
    assert _attach(vclient, sid, vid, token=BOB).status_int == 404  # not bob's server
    assert _attach(vclient, sid, "not-a-uuid").status_int == 400
    assert _attach(vclient, sid, vid, version="2.48", tag="x").status_int == 400
    stopped = vconductor.add_server(vm_state=states.SHELVED_OFFLOADED, host=None).uuid
    assert _attach(vclient, stopped, theirs, token=ADMIN).status_int == 409
    resp = vclient.delete(PATH % sid + "/" + theirs, token=ALICE)
    assert resp.status_int == 404
    locked = vconductor.add_server(locked=True).uuid
    assert _attach(vclient, locked, str(uuidlib.uuid4())).status_int == 409
    assert volumes.attachments.keys() == {vconductor.bdms[0].attachment_id}


def test_a_failed_connect_releases_the_reservation(vclient, vconductor, volumes):
    sid = vconductor.add_server().uuid
    vid = volumes.create(A, 1, "v")["id"]
    vconductor.fail_connect = True
    resp = _attach(vclient, sid, vid)
    assert resp.status_int == 400 and "iscsi" in resp.text
    assert volumes.get(A, vid)["status"] == "available" and volumes.attachments == {}


def test_update_and_swap(vclient, vconductor, volumes):
    sid = vconductor.add_server().uuid
    vid = volumes.create(A, 1, "v")["id"]
    new = volumes.create(A, 1, "n")["id"]
    _attach(vclient, sid, vid)
    body = {"volumeAttachment": {"volumeId": vid, "delete_on_termination": True}}
    assert vclient.put(PATH % sid + "/" + vid, body, token=ALICE,
                       version="2.85").status_int == 202
    assert vconductor.bdms[0].delete_on_termination is True
    body = {"volumeAttachment": {"volumeId": new}}
    assert vclient.put(PATH % sid + "/" + vid, body, token=ALICE).status_int == 403
    vconductor.fail_connect = True
    assert vclient.put(PATH % sid + "/" + vid, body, token=ADMIN).status_int == 400
    assert volumes.get(A, new)["status"] == "available"
    vconductor.fail_connect = False
    assert vclient.put(PATH % sid + "/" + vid, body, token=ADMIN).status_int == 202
    assert (volumes.get(A, vid)["status"], volumes.get(A, new)["status"]) == \
        ("available", "in-use")
    listed = vclient.get(PATH % sid, token=ALICE).json["volumeAttachments"]
    assert [a["volumeId"] for a in listed] == [new]
    resp = vclient.put(PATH % sid + "/" + vid, {"volumeAttachment": {"volumeId": new}},
                       token=ADMIN)  # vid is no longer attached here
    assert resp.status_int == 404


def test_without_cinder_volumes_are_refused(client, conductor):
    sid = conductor.add_server().uuid
    resp = _attach(client, sid, str(uuidlib.uuid4()))
    assert resp.status_int == 400 and "no block storage service" in resp.text
    assert client.get(PATH % sid, token=ALICE).json == {"volumeAttachments": []}
    assert client.get(PATH % sid + "/" + str(uuidlib.uuid4()), token=ALICE).status_int == 404


# -- multiattach (2.60) ------------------------------------------------------------------

OLD = "Multiattach volumes are only supported starting with compute API version 2.60."


def _shared(volumes) -> str:
    return volumes.create(A, 1, "shared", volume_type=fake_volume.MULTIATTACH_TYPE)["id"]


def test_attach_to_two_servers_from_2_60(vclient, vconductor, volumes):
    one, two = vconductor.add_server().uuid, vconductor.add_server().uuid
    vid = _shared(volumes)
    resp = _attach(vclient, one, vid, version="2.59")
    assert resp.status_int == 400 and resp.json["badRequest"]["message"] == OLD
    assert volumes.attachments == {}  # nothing left reserved
    assert _attach(vclient, one, vid, version="2.60").status_int == 200
    assert _attach(vclient, two, vid, version="2.60").status_int == 200
    vol = volumes.get(A, vid)
    assert vol["status"] == "in-use"
    assert sorted(a["server_id"] for a in vol["attachments"]) == sorted([one, two])
    resp = _attach(vclient, two, vid, version="2.60")  # never twice on one server
    assert resp.status_int == 400 and "already attached" in resp.text

    assert vclient.delete(PATH % one + "/" + vid, token=ALICE).status_int == 202
    vol = volumes.get(A, vid)
    assert vol["status"] == "in-use" and [a["server_id"] for a in vol["attachments"]] \
        == [two]
    assert vclient.get(PATH % two + "/" + vid, token=ALICE).status_int == 200
    assert vclient.get(PATH % one + "/" + vid, token=ALICE).status_int == 404


def test_an_ordinary_volume_in_use_stays_refused(vclient, vconductor, volumes):
    one, two = vconductor.add_server().uuid, vconductor.add_server().uuid
    vid = volumes.create(A, 1, "v")["id"]
    assert _attach(vclient, one, vid, version="2.60").status_int == 200
    resp = _attach(vclient, two, vid, version="2.60")
    assert resp.status_int == 400 and "must be 'available'" in resp.text


def test_swap_of_a_volume_several_servers_write_is_refused(vclient, vconductor, volumes):
    one, two = vconductor.add_server().uuid, vconductor.add_server().uuid
    vid, new = _shared(volumes), volumes.create(A, 1, "new")["id"]
    _attach(vclient, one, vid, version="2.60")
    _attach(vclient, two, vid, version="2.60")
    body = {"volumeAttachment": {"volumeId": new}}
    resp = vclient.put(PATH % one + "/" + vid, body, token=ADMIN)
    assert resp.status_int == 400
    assert resp.json["badRequest"]["message"] == (
        "Swapping multi-attach volumes with more than one read/write attachment is not "
        "supported.")
    assert volumes.get(A, new)["status"] == "available" and \
        sorted(c[1] for c in volumes.calls if c[0] == "attachment_get") == \
        sorted(a["attachment_id"] for a in volumes.get(A, vid)["attachments"])
    # a read-only second attachment, or a single one, lets the swap go on
    ro = next(a for a in volumes.attachments.values() if a["instance"] == two)
    ro["attach_mode"] = "ro"
    assert vclient.put(PATH % one + "/" + vid, body, token=ADMIN).status_int == 202
    assert volumes.get(A, new)["status"] == "in-use"
