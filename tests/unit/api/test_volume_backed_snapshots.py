"""createImage of a volume-backed server as Nova's API does it: a forced Cinder snapshot
of each volume and an active image without data that maps them (bdm_v2); booting from
that image makes volumes from the snapshots; createBackup is refused; shelve records no
image (the volumes keep the data)."""

from __future__ import annotations

import json

import pytest

from nova_lite.api import volume_snapshot
from tests.unit.api.conftest import ALICE
from tests.unit.api import test_block_device_mappings as bdm_tests

ALICE_CTX = bdm_tests.ALICE_CTX
volumes, vclient = bdm_tests.volumes, bdm_tests.vclient  # the same fixtures


def _volume_backed_server(vclient, conductor, volumes, image_id):
    data = volumes.create(ALICE_CTX, 2, "data")
    body = {"server": {"name": "bfv", "flavorRef": "1", "imageRef": "",
                       "block_device_mapping_v2": [
                           {"uuid": image_id, "source_type": "image",
                            "destination_type": "volume", "boot_index": 0,
                            "volume_size": 1, "delete_on_termination": True},
                           {"uuid": data["id"], "source_type": "volume",
                            "destination_type": "volume", "boot_index": -1,
                            "device_name": "/dev/vdb"}]}}
    resp = vclient.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 202, resp.text
    inst = conductor.servers[resp.json["server"]["id"]]
    inst.vm_state, inst.task_state = "active", None
    root = volumes.create(ALICE_CTX, 1, "root")  # as the host made it
    conductor.bdms[inst.uuid][0].volume_id = root["id"]
    return inst, root, data


def test_create_image_snapshots_the_volumes(vclient, conductor, volumes, images,
                                            image_id):
    inst, root, data = _volume_backed_server(vclient, conductor, volumes, image_id)
    resp = vclient.post(f"/v2.1/servers/{inst.uuid}/action",
                        {"createImage": {"name": "vb-snap", "metadata": {"k": "v"}}},
                        token=ALICE, version="2.45")
    assert resp.status_int == 202, resp.text
    image = images.show(None, resp.json["image_id"])
    assert image["status"] == "active" and image["size"] == 0
    props = image["properties"]
    assert props["bdm_v2"] == "True" and props["root_device_name"] == "/dev/vda"
    assert props["k"] == "v" and props["instance_uuid"] == inst.uuid
    assert image["min_disk"] == 1
    mappings = json.loads(props["block_device_mapping"])
    snaps = {s["volume_id"]: s for s in volumes.snapshots.values()}
    assert set(snaps) == {root["id"], data["id"]}
    assert snaps[root["id"]]["name"] == "snapshot for vb-snap"
    assert [(m["source_type"], m["destination_type"], m["boot_index"], m["snapshot_id"],
             m["volume_size"], m["delete_on_termination"], m["volume_id"])
            for m in mappings] == [
        ("snapshot", "volume", 0, snaps[root["id"]]["id"], 1, True, None),
        ("snapshot", "volume", -1, snaps[data["id"]]["id"], 2, False, None)]
    assert conductor.action_params == []  # no compute host takes part
    assert inst.task_state is None


def test_boot_from_the_image_makes_volumes_from_the_snapshots(vclient, conductor, volumes,
                                                              images, image_id):
    inst, root, _ = _volume_backed_server(vclient, conductor, volumes, image_id)
    resp = vclient.post(f"/v2.1/servers/{inst.uuid}/action",
                        {"createImage": {"name": "vb-snap"}}, token=ALICE, version="2.45")
    snap_image = resp.json["image_id"]
    body = {"server": {"name": "again", "flavorRef": "1", "imageRef": snap_image}}
    resp = vclient.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 202, resp.text
    new = conductor.servers[resp.json["server"]["id"]]
    spec = conductor.request_specs[-1]
    assert new.image_ref == snap_image and spec.is_bfv
    bdms = spec.block_device_mappings
    assert [(b.source_type, b.destination_type, b.boot_index, b.volume_size)
            for b in bdms] == [("snapshot", "volume", 0, 1), ("snapshot", "volume", -1, 2)]
    assert all(b.snapshot_id in volumes.snapshots and b.get("volume_id") is None
               for b in bdms)
    assert new.system_metadata["image_bdm_v2"] == "True"
    # A requested mapping with an image mapping's device name replaces it.
    blank = {"source_type": "blank", "destination_type": "volume", "boot_index": -1,
             "volume_size": 3, "device_name": "/dev/vdb"}
    body["server"]["block_device_mapping_v2"] = [blank]
    resp = vclient.post("/v2.1/servers", body, token=ALICE)
    assert resp.status_int == 202, resp.text
    assert [(b.source_type, b.volume_size)
            for b in conductor.request_specs[-1].block_device_mappings] == [
        ("snapshot", 1), ("blank", 3)]


def test_failed_snapshot_deletes_the_ones_taken(vclient, conductor, volumes, images,
                                                image_id):
    inst, root, data = _volume_backed_server(vclient, conductor, volumes, image_id)
    del volumes.volumes[data["id"]]  # the second volume is gone from Cinder
    before = {i["id"] for i in images.list(None)}
    resp = vclient.post(f"/v2.1/servers/{inst.uuid}/action",
                        {"createImage": {"name": "vb-snap"}}, token=ALICE, version="2.45")
    assert resp.status_int == 404, resp.text
    assert volumes.snapshots == {}
    assert {i["id"] for i in images.list(None)} == before


def test_create_backup_is_refused(vclient, conductor, volumes, image_id):
    inst, _, _ = _volume_backed_server(vclient, conductor, volumes, image_id)
    resp = vclient.post(f"/v2.1/servers/{inst.uuid}/action",
                        {"createBackup": {"name": "b", "backup_type": "daily",
                                          "rotation": 1}}, token=ALICE)
    assert resp.status_int == 400, resp.text
    assert resp.json["badRequest"]["message"] == \
        "Backup is not supported for volume-backed instances."


def test_image_mappings_of_ordinary_and_broken_images():
    assert volume_snapshot.image_mappings({"properties": {}}) == []
    assert volume_snapshot.image_mappings(
        {"properties": {"bdm_v2": "False", "block_device_mapping": "[]"}}) == []
    with pytest.raises(Exception, match="invalid block_device_mapping"):
        volume_snapshot.image_mappings(
            {"id": "x", "properties": {"bdm_v2": "True", "block_device_mapping": "{"}})


def test_shelve_records_no_image(vclient, conductor, volumes, images, image_id):
    inst, _, _ = _volume_backed_server(vclient, conductor, volumes, image_id)
    before = {i["id"] for i in images.list(None)}
    resp = vclient.post(f"/v2.1/servers/{inst.uuid}/action", {"shelve": None}, token=ALICE)
    assert resp.status_int == 202, resp.text
    assert conductor.action_params[-1] == ("shelve", {"image_id": None})
    assert {i["id"] for i in images.list(None)} == before
