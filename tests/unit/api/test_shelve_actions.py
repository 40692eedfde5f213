"""shelve, shelveOffload and unshelve through the API (schemas, policy, microversions)."""

from __future__ import annotations

import pytest

from nova_lite.compute import states
from tests.unit.api.conftest import ALICE, BOB

ACTION = "/v2.1/servers/{}/action"


def _post(client, inst, body, token=ALICE, version=None):
    return client.post(ACTION.format(inst.uuid), body, token=token, version=version)


@pytest.mark.parametrize("vm_state", [states.ACTIVE, states.STOPPED, states.PAUSED,
                                      states.SUSPENDED])
def test_shelve_records_a_queued_snapshot_image(client, conductor, images, image_id,
                                                vm_state):
    inst = conductor.add_server(vm_state=vm_state, image_ref=image_id, name="web")
    resp = _post(client, inst, {"shelve": None})
    assert resp.status_int == 202, resp.text
    assert resp.body == b""
    assert inst.task_state == states.SHELVING
    action, params = conductor.action_params[-1]
    assert action == "shelve"
    image = images.show(None, params["image_id"])
    assert image["name"] == "web-shelved" and image["status"] == "queued"
    props = image["properties"]
    assert props["instance_uuid"] == inst.uuid and props["image_type"] == "snapshot"
    assert props["base_image_ref"] == image_id and props["user_id"] == "alice"
    assert props["os_distro"] == "cirros"  # inherited from the boot image
    assert image["visibility"] == "private" and image["owner"] == "proj-a"
    assert image["min_disk"] == 1


@pytest.mark.parametrize("vm_state, task_state", [
    (states.SHELVED, None), (states.ERROR, None), (states.RESCUED, None),
    (states.ACTIVE, states.REBOOTING)])
def test_shelve_in_wrong_state_is_409_and_records_no_image(client, conductor, images,
                                                           vm_state, task_state):
    before = len(images.list(None))
    inst = conductor.add_server(vm_state=vm_state, task_state=task_state)
    resp = _post(client, inst, {"shelve": None})
    assert resp.status_int == 409, resp.text
    assert "conflictingRequest" in resp.json
    assert "Cannot 'shelve' instance" in resp.json["conflictingRequest"]["message"]
    assert len(images.list(None)) == before


def test_image_of_a_refused_shelve_is_deleted(client, conductor, images, monkeypatch):
    """The conductor's own check is the authority: when it refuses, the image goes."""
    from nova_lite import exception

    inst = conductor.add_server()
    before = len(images.list(None))

    def refuse(*a, **kw):
        raise exception.InstanceInvalidState(action="shelve", instance_uuid=inst.uuid,
                                             attr="task_state", state="powering-off")
    monkeypatch.setattr(conductor, "server_action", refuse)
    resp = _post(client, inst, {"shelve": None})
    assert resp.status_int == 409
    assert len(images.list(None)) == before


@pytest.mark.parametrize("body", [{"shelve": {}}, {"shelve": 1}, {"shelveOffload": {}},
                                  {"unshelve": 1, "x": 2}])
def test_bad_bodies(client, conductor, body):
    inst = conductor.add_server(vm_state=states.SHELVED)
    assert _post(client, inst, body).status_int == 400


def test_shelve_offload_is_admin_only(client, conductor):
    inst = conductor.add_server(vm_state=states.SHELVED)
    assert _post(client, inst, {"shelveOffload": None}).status_int == 403
    resp = _post(client, inst, {"shelveOffload": None}, token="admin:admin")
    assert resp.status_int == 202, resp.text
    assert inst.task_state == states.SHELVING_OFFLOADING
    inst2 = conductor.add_server(vm_state=states.SHELVED_OFFLOADED, host=None)
    resp = _post(client, inst2, {"shelveOffload": None}, token="admin:admin")
    assert resp.status_int == 409


def test_other_projects_server_is_404(client, conductor):
    inst = conductor.add_server(project_id="proj-a")
    assert _post(client, inst, {"shelve": None}, token=BOB).status_int == 404


@pytest.mark.parametrize("version, body, params", [
    (None, {"unshelve": None}, {}),
    (None, {"unshelve": {"availability_zone": "nova"}}, {}),  # ignored before 2.77
    ("2.76", {"unshelve": {"whatever": 1}}, {}),
    ("2.77", {"unshelve": None}, {}),
    ("2.77", {"unshelve": {"availability_zone": "nova"}}, {"availability_zone": "nova"}),
    ("2.91", {"unshelve": {"availability_zone": None}}, {"availability_zone": None}),
    ("2.91", {"unshelve": {}}, {}),
])
def test_unshelve_per_microversion(client, conductor, version, body, params):
    inst = conductor.add_server(vm_state=states.SHELVED_OFFLOADED, host=None)
    resp = _post(client, inst, body, version=version)
    assert resp.status_int == 202, resp.text
    assert conductor.action_params[-1] == ("unshelve", params)
    assert inst.task_state == states.UNSHELVING


@pytest.mark.parametrize("version, body", [
    ("2.77", {"unshelve": {}}),
    ("2.77", {"unshelve": {"availability_zone": None}}),
    ("2.77", {"unshelve": {"host": "c1"}}),
    ("2.77", {"unshelve": {"availability_zone": " padded "}}),
    ("2.91", {"unshelve": {"foo": "bar"}}),
    ("2.91", {"unshelve": {"host": ""}}),
])
def test_unshelve_bad_bodies(client, conductor, version, body):
    inst = conductor.add_server(vm_state=states.SHELVED_OFFLOADED, host=None)
    assert _post(client, inst, body, version=version).status_int == 400


def test_unshelve_to_host_is_admin_only_and_needs_a_real_host(client, conductor):
    conductor.add_compute("c2")
    inst = conductor.add_server(vm_state=states.SHELVED_OFFLOADED, host=None)
    body = {"unshelve": {"host": "c2"}}
    assert _post(client, inst, body, version="2.91").status_int == 403
    resp = _post(client, inst, {"unshelve": {"host": "nope"}}, token="admin:admin",
                 version="2.91")
    assert resp.status_int == 400
    resp = _post(client, inst, body, token="admin:admin", version="2.91")
    assert resp.status_int == 202, resp.text
    assert conductor.action_params[-1] == ("unshelve", {"host": "c2"})


def test_unshelve_with_az_or_host_needs_offloaded(client, conductor):
    conductor.add_compute("c2")
    inst = conductor.add_server(vm_state=states.SHELVED)
    resp = _post(client, inst, {"unshelve": {"availability_zone": "nova"}}, version="2.77")
    assert resp.status_int == 409
    assert "must be SHELVED_OFFLOADED" in resp.json["conflictingRequest"]["message"]
    assert _post(client, inst, {"unshelve": None}, version="2.77").status_int == 202


def test_unshelve_of_active_is_409(client, conductor):
    inst = conductor.add_server()
    resp = _post(client, inst, {"unshelve": None})
    assert resp.status_int == 409
    assert resp.json["conflictingRequest"]["message"] == (
        f"Cannot 'unshelve' instance {inst.uuid} while it is in vm_state active")


def test_delete_of_shelved_server_deletes_its_image(client, conductor, images, tmp_path):
    from nova_lite.context import RequestContext

    alice = RequestContext(user_id="alice", project_id="proj-a")  # shelve ran as her
    meta = images.create(alice, {"name": "vm-shelved"})
    images.upload(alice, meta["id"], [b"x"], disk_format="raw", container_format="bare")
    inst = conductor.add_server(vm_state=states.SHELVED_OFFLOADED, host=None,
                                system_metadata={"shelved_image_id": meta["id"]})
    assert client.delete(f"/v2.1/servers/{inst.uuid}", token=ALICE).status_int == 204
    assert meta["id"] not in {i["id"] for i in images.list(None)}


@pytest.mark.parametrize("status, vm_state", [
    ("SHELVED", states.SHELVED), ("SHELVED_OFFLOADED", states.SHELVED_OFFLOADED),
    ("RESCUE", states.RESCUED)])
def test_list_filter_and_status(client, conductor, status, vm_state):
    mine = conductor.add_server(vm_state=vm_state, host=None if vm_state ==
                                states.SHELVED_OFFLOADED else "c1")
    conductor.add_server()
    found = client.get(f"/v2.1/servers/detail?status={status}", token=ALICE).json["servers"]
    assert [s["id"] for s in found] == [mine.uuid]
    assert found[0]["status"] == status
    assert found[0]["OS-EXT-STS:vm_state"] == vm_state
    if vm_state == states.SHELVED_OFFLOADED:
        assert found[0]["hostId"] == ""


def test_password_status_filter_looks_at_the_task(client, conductor):
    busy = conductor.add_server(task_state=states.UPDATING_PASSWORD)
    conductor.add_server()
    found = client.get("/v2.1/servers/detail?status=PASSWORD", token=ALICE).json["servers"]
    assert [s["id"] for s in found] == [busy.uuid]
    assert found[0]["status"] == "PASSWORD"


@pytest.mark.parametrize("body, version, vm_state", [
    ({"shelve": None}, None, states.ACTIVE),
    ({"unshelve": None}, None, states.SHELVED_OFFLOADED),
    ({"rescue": None}, None, states.ACTIVE),
    ({"unrescue": None}, None, states.RESCUED),
    ({"changePassword": {"adminPass": "x"}}, None, states.ACTIVE),
    ({"trigger_crash_dump": None}, "2.17", states.ACTIVE),
])
def test_locked_server_refuses_its_owner_but_not_an_admin(client, conductor, images, body,
                                                          version, vm_state):
    before = len(images.list(None))
    inst = conductor.add_server(vm_state=vm_state, locked=True, locked_by="owner",
                                host=None if vm_state == states.SHELVED_OFFLOADED else "c1")
    resp = _post(client, inst, body, version=version)
    assert resp.status_int == 409, resp.text
    assert resp.json["conflictingRequest"]["message"] == f"Instance {inst.uuid} is locked"
    assert len(images.list(None)) == before  # a refused shelve leaves no image
    resp = _post(client, inst, body, token="admin:admin", version=version)
    assert resp.status_int in (200, 202), resp.text


def test_locked_server_can_still_be_snapshotted(client, conductor):
    inst = conductor.add_server(locked=True, locked_by="admin")
    resp = _post(client, inst, {"createImage": {"name": "s"}}, version="2.45")
    assert resp.status_int == 202, resp.text
