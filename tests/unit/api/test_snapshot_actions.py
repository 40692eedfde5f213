"""createImage and createBackup through the API: the recorded image, Location / 2.45."""

from __future__ import annotations

import pytest

from nova_lite.compute import states
from tests.unit.api.conftest import ALICE

ACTION = "/v2.1/servers/{}/action"


def _post(client, inst, body, token=ALICE, version=None):
    return client.post(ACTION.format(inst.uuid), body, token=token, version=version)


def test_create_image_below_245_answers_a_location(client, conductor, images, image_id):
    inst = conductor.add_server(image_ref=image_id)
    resp = _post(client, inst, {"createImage": {"name": "snap", "metadata": {"k": "v"}}})
    assert resp.status_int == 202, resp.text
    assert resp.body == b""
    action, params = conductor.action_params[-1]
    assert action == "createImage" and inst.task_state == states.IMAGE_SNAPSHOT
    assert resp.headers["Location"] == f"http://localhost/v2.1/images/{params['image_id']}"
    image = images.show(None, params["image_id"])
    assert image["name"] == "snap" and image["status"] == "queued"
    assert image["properties"]["k"] == "v"
    assert image["properties"]["image_type"] == "snapshot"
    assert image["properties"]["instance_uuid"] == inst.uuid
    assert image["properties"]["os_distro"] == "cirros"


def test_create_image_from_245_answers_the_id(client, conductor, image_id):
    inst = conductor.add_server(image_ref=image_id, vm_state=states.STOPPED)
    resp = _post(client, inst, {"createImage": {"name": "snap"}}, version="2.45")
    assert resp.status_int == 202, resp.text
    assert "Location" not in resp.headers
    assert resp.json == {"image_id": conductor.action_params[-1][1]["image_id"]}


def test_boot_image_gone_still_snapshots(client, conductor, images, image_id):
    images.delete(None, image_id)
    inst = conductor.add_server(image_ref=image_id)
    resp = _post(client, inst, {"createImage": {"name": "snap"}}, version="2.45")
    assert resp.status_int == 202, resp.text
    props = images.show(None, resp.json["image_id"])["properties"]
    assert props["base_image_ref"] == image_id and "os_distro" not in props


@pytest.mark.parametrize("body", [
    {"createImage": {}}, {"createImage": {"name": ""}}, {"createImage": {"name": " x"}},
    {"createImage": {"name": "x", "metadata": {"k": 1}}},
    {"createImage": {"name": "x", "bogus": 1}}, {"createImage": None},
    {"createBackup": {"name": "b", "backup_type": "daily"}},
    {"createBackup": {"name": "b", "backup_type": "daily", "rotation": -1}},
    {"createBackup": {"name": "b", "backup_type": "daily", "rotation": "x"}},
    {"createBackup": {"name": "b", "rotation": 1}},
])
def test_bad_bodies(client, conductor, body):
    inst = conductor.add_server()
    assert _post(client, inst, body).status_int == 400


@pytest.mark.parametrize("key, body", [
    ("createImage", {"createImage": {"name": "s"}}),
    ("createBackup", {"createBackup": {"name": "b", "backup_type": "d", "rotation": 1}})])
def test_wrong_state_is_409_without_an_image(client, conductor, images, key, body):
    before = len(images.list(None))
    inst = conductor.add_server(vm_state=states.SHELVED)
    resp = _post(client, inst, body)
    assert resp.status_int == 409
    assert resp.json["conflictingRequest"]["message"] == (
        f"Cannot '{key}' instance {inst.uuid} while it is in vm_state shelved")
    assert len(images.list(None)) == before


def test_create_backup(client, conductor, images, image_id):
    inst = conductor.add_server(image_ref=image_id, vm_state=states.PAUSED)
    body = {"createBackup": {"name": "nightly", "backup_type": "daily", "rotation": "2",
                             "metadata": {"n": 1}}}
    resp = _post(client, inst, body)
    assert resp.status_int == 202, resp.text
    action, params = conductor.action_params[-1]
    assert action == "createBackup" and inst.task_state == states.IMAGE_BACKUP
    assert params["backup_type"] == "daily" and params["rotation"] == 2
    assert resp.headers["Location"].endswith(params["image_id"])
    props = images.show(None, params["image_id"])["properties"]
    assert props["image_type"] == "backup" and props["backup_type"] == "daily"
    assert props["n"] == "1"


def test_create_backup_rotation_0_has_no_location_below_245(client, conductor):
    inst = conductor.add_server()
    body = {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 0}}
    resp = _post(client, inst, body)
    assert resp.status_int == 202 and "Location" not in resp.headers
    resp = _post(client, conductor.add_server(), body, version="2.45")
    assert set(resp.json) == {"image_id"}


def test_policy_other_project_and_reader(client, conductor):
    inst = conductor.add_server(project_id="proj-b")
    resp = _post(client, inst, {"createImage": {"name": "s"}})
    assert resp.status_int == 404
