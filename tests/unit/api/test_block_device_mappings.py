"""block_device_mapping_v2 (and the legacy block_device_mapping) on server create, as
Nova validates them: every source/destination pairing it accepts or refuses, its format
rules and messages, the microversioned tag and volume_type, boot from volume (imageRef
"" and no root disk claimed) and existing volumes reserved for the server."""

from __future__ import annotations

import types
import uuid

import pytest

from nova_lite.api import app as api_app
from tests import fake_volume
from tests.unit.api.conftest import ALICE, Client
from tests.unit.api.fake_conductor import make_flavor

ALICE_CTX = types.SimpleNamespace(project_id="proj-a", is_admin=False)


@pytest.fixture
def volumes() -> fake_volume.API:
    return fake_volume.API()


@pytest.fixture
def vclient(conf, conductor, images, volumes) -> Client:
    conductor.flavors["eph"] = make_flavor("eph", "m1.eph", 512, 1, 1, 9, ephemeral_gb=2,
                                           swap=512)
    return Client(api_app.build_app(conf, conductor_api=conductor, image_api=images,
                                    volume_api=volumes))


def _create(client, bdms, image_ref="", version="2.1", legacy=False, **server):
    body = {"server": {"name": "bfv", "flavorRef": "1", **server}}
    if image_ref is not None:
        body["server"]["imageRef"] = image_ref
    body["server"]["block_device_mapping" if legacy else "block_device_mapping_v2"] = bdms
    if version >= "2.37":
        body["server"].setdefault("networks", "none")
    return client.post("/v2.1/servers", body, token=ALICE, version=version)


def _root(image_id, **kw):
    return dict({"uuid": image_id, "source_type": "image", "destination_type": "volume",
                 "boot_index": 0, "volume_size": 1}, **kw)


def _ok(resp, conductor):
    assert resp.status_int == 202, resp.text
    return conductor.servers[resp.json["server"]["id"]], conductor.request_specs[-1]


def _bad(resp, message):
    assert resp.status_int == 400, resp.text
    assert message in resp.json["badRequest"]["message"], resp.json
    return resp


# -- image ----------------------------------------------------------------------------

def test_image_to_local_only_as_the_root_of_imageref(vclient, conductor, image_id):
    local = {"uuid": image_id, "source_type": "image", "destination_type": "local",
             "boot_index": 0, "delete_on_termination": True}
    inst, spec = _ok(_create(vclient, [local], image_ref=image_id), conductor)
    assert inst.image_ref == image_id and not spec.is_bfv
    assert spec.block_device_mappings == []  # the image root has no mapping row
    _bad(_create(vclient, [local], image_ref=None), "Mapping image to local is not supported.")
    _bad(_create(vclient, [dict(local, boot_index=-1)], image_ref=image_id),
         "Mapping image to local is not supported.")
    _bad(_create(vclient, [dict(local, boot_index=None)], image_ref=image_id),
         "Mapping image to local is not supported.")


def test_image_to_volume_boots_from_volume(vclient, conductor, image_id):
    inst, spec = _ok(_create(vclient, [_root(image_id, delete_on_termination="yes")]),
                     conductor)
    assert inst.image_ref == "" and spec.is_bfv and spec.image_id is None
    [bdm] = spec.block_device_mappings
    assert (bdm.source_type, bdm.destination_type, bdm.image_id, bdm.volume_size,
            bdm.boot_index, bdm.delete_on_termination, bdm.instance_uuid) == (
        "image", "volume", image_id, 1, 0, True, inst.uuid)
    assert spec.resources().get("DISK_GB") is None  # the root claims no local disk
    # imageRef absent altogether works as well
    _ok(_create(vclient, [_root(image_id)], image_ref=None), conductor)


@pytest.mark.parametrize("bdm,message", [
    ({"volume_size": None}, "Images with destination_type 'volume' need to have a "
                            "non-zero size specified"),
    ({"uuid": str(uuid.uuid4())}, "failed to get image"),
    ({"uuid": None}, "Missing device UUID."),
])
def test_image_to_volume_refused(vclient, image_id, bdm, message):
    _bad(_create(vclient, [{k: v for k, v in _root(image_id, **bdm).items()
                            if v is not None}]), message)


def test_data_volume_from_an_unknown_image(vclient, image_id):
    other = _root(str(uuid.uuid4()), boot_index=-1)
    _bad(_create(vclient, [other], image_ref=image_id), "failed to get image")


def test_volume_smaller_than_the_image_min_disk(vclient, images, image_id):
    meta = images.show(None, image_id)
    images._write(dict(meta, min_disk=2))
    _bad(_create(vclient, [_root(image_id)]), "Volume is smaller than the minimum size")


# -- volume ---------------------------------------------------------------------------

def test_existing_volume_as_root_is_reserved(vclient, conductor, volumes, image_id):
    vol = volumes.create(ALICE_CTX, 3, "root", image_id=image_id)
    bdm = {"uuid": vol["id"], "source_type": "volume", "destination_type": "volume",
           "boot_index": "0"}
    inst, spec = _ok(_create(vclient, [bdm]), conductor)
    [made] = spec.block_device_mappings
    assert made.volume_id == vol["id"] and made.volume_size == 3 and made.attachment_id
    assert spec.is_bfv and inst.image_ref == ""
    assert volumes.get(ALICE_CTX, vol["id"])["status"] == "reserved"
    # reserved now: a second server cannot have it
    _bad(_create(vclient, [bdm]), "Invalid volume")


def test_boot_from_a_multiattach_volume_from_2_60(vclient, conductor, volumes, image_id):
    vol = volumes.create(ALICE_CTX, 1, "shared", image_id=image_id,
                         volume_type=fake_volume.MULTIATTACH_TYPE)
    bdm = {"uuid": vol["id"], "source_type": "volume", "destination_type": "volume",
           "boot_index": 0}
    _bad(_create(vclient, [bdm], version="2.59", networks="none"),
         "Multiattach volumes are only supported starting with compute API version 2.60.")
    assert volumes.attachments == {}
    _ok(_create(vclient, [bdm], version="2.60"), conductor)
    assert volumes.get(ALICE_CTX, vol["id"])["status"] == "reserved"


@pytest.mark.parametrize("change,message", [
    ({"uuid": None}, "Missing device UUID."),
    ({"uuid": str(uuid.uuid4())}, "failed to get volume"),
])
def test_volume_refused(vclient, change, message):
    bdm = {"uuid": "x", "source_type": "volume", "destination_type": "volume",
           "boot_index": 0, **change}
    _bad(_create(vclient, [{k: v for k, v in bdm.items() if v is not None}]), message)


def test_volume_not_bootable_or_for_many_servers(vclient, volumes, image_id):
    vol = volumes.create(ALICE_CTX, 1, "data")  # not made from an image
    volumes.volumes[vol["id"]]["bootable"] = "false"
    bdm = {"uuid": vol["id"], "source_type": "volume", "destination_type": "volume",
           "boot_index": 0}
    _bad(_create(vclient, [bdm]), f"Block Device {vol['id']} is not bootable.")
    data = dict(bdm, boot_index=-1)
    _bad(_create(vclient, [data], image_ref=image_id, max_count=2),
         "Cannot attach one or more volumes to multiple instances")
    _bad(_create(vclient, [dict(data, volume_type="fast")], image_ref=image_id,
                 version="2.67"),
         "Specifying volume type to existing volume is not supported.")
    _bad(_create(vclient, [dict(data, destination_type="local")], image_ref=image_id),
         "Mapping volume to local is not supported.")


def test_other_projects_volume_is_not_found(vclient, volumes, image_id):
    theirs = volumes.create(types.SimpleNamespace(project_id="proj-b", is_admin=False), 1,
                            "b")
    bdm = {"uuid": theirs["id"], "source_type": "volume", "destination_type": "volume",
           "boot_index": -1}
    _bad(_create(vclient, [bdm], image_ref=image_id), "failed to get volume")


# -- snapshot -------------------------------------------------------------------------

def test_snapshot_to_volume(vclient, conductor, volumes):
    vol = volumes.create(ALICE_CTX, 2, "src")
    snap = volumes.create_snapshot_force(ALICE_CTX, vol["id"], "s", None)
    bdm = {"uuid": snap["id"], "source_type": "snapshot", "destination_type": "volume",
           "boot_index": 0, "delete_on_termination": True}
    _, spec = _ok(_create(vclient, [bdm]), conductor)
    assert spec.block_device_mappings[0].volume_size == 2
    assert spec.block_device_mappings[0].snapshot_id == snap["id"]
    _bad(_create(vclient, [dict(bdm, uuid=str(uuid.uuid4()))]), "failed to get snapshot")
    _bad(_create(vclient, [dict(bdm, destination_type="local")]),
         "Mapping snapshot to local is not supported.")


# -- blank ----------------------------------------------------------------------------

def test_blank_volume(vclient, conductor, image_id):
    blank = {"source_type": "blank", "destination_type": "volume", "boot_index": -1,
             "volume_size": 1, "device_name": "/dev/vdb"}
    _, spec = _ok(_create(vclient, [blank], image_ref=image_id), conductor)
    assert not spec.is_bfv and spec.block_device_mappings[0].device_name == "/dev/vdb"
    _bad(_create(vclient, [dict(blank, volume_size=None)], image_ref=image_id),
         "Invalid input")
    _bad(_create(vclient, [{k: v for k, v in blank.items() if k != "volume_size"}],
                 image_ref=image_id),
         "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size")
    _bad(_create(vclient, [dict(blank, uuid=image_id)], image_ref=image_id),
         "Invalid device UUID.")


def test_blank_local_disks_follow_the_flavor(vclient, conductor, image_id):
    eph = {"source_type": "blank", "destination_type": "local", "boot_index": -1,
           "volume_size": 3}
    swap = dict(eph, guest_format="swap", volume_size=1024)  # MiB, as the flavor's
    _bad(_create(vclient, [eph], image_ref=image_id, flavorRef="eph"),
         "Ephemeral disks requested are larger than the instance type allows.")
    _bad(_create(vclient, [swap], image_ref=image_id, flavorRef="eph"),
         "Swap drive requested is larger than instance type allows.")
    small = dict(swap, volume_size=256)
    _bad(_create(vclient, [small, small], image_ref=image_id, flavorRef="eph"),
         "More than one swap drive requested.")
    many = [{k: v for k, v in eph.items() if k != "volume_size"}] * 2  # 2 GiB each
    _bad(_create(vclient, many, image_ref=image_id, flavorRef="eph"),
         "Ephemeral disks requested are larger")
    # within Nova's limits: recorded; the flavor's swap is added (none was asked for)
    _, spec = _ok(_create(vclient, [dict(eph, volume_size=1, guest_format="ext4")],
                          image_ref=image_id, flavorRef="eph"), conductor)
    assert [(b.source_type, b.destination_type, b.volume_size, b.guest_format,
             b.boot_index, b.delete_on_termination) for b in spec.block_device_mappings] == [
        ("blank", "local", 1, "ext4", -1, False), ("blank", "local", 512, "swap", -1, True)]
    assert not spec.is_bfv
    # a swap without a size takes the flavor's; the flavor's ephemeral disk is added
    _, spec = _ok(_create(vclient, [{k: v for k, v in swap.items() if k != "volume_size"}],
                          image_ref=image_id, flavorRef="eph"), conductor)
    assert sorted((b.guest_format or "", b.volume_size)
                  for b in spec.block_device_mappings) == [("", 2), ("swap", 512)]
    # a flavor without local disks: a local disk needs its own size
    _bad(_create(vclient, [{k: v for k, v in eph.items() if k != "volume_size"}],
                 image_ref=image_id), "needs a volume_size")


def test_the_flavors_local_disks_without_mappings(vclient, conductor, image_id):
    body = {"server": {"name": "plain", "flavorRef": "eph", "imageRef": image_id}}
    resp = vclient.post("/v2.1/servers", body, token=ALICE)
    _, spec = _ok(resp, conductor)
    assert sorted((b.guest_format or "", b.volume_size, b.destination_type)
                  for b in spec.block_device_mappings) == [("", 2, "local"),
                                                           ("swap", 512, "local")]


def test_the_flavors_local_disks_count_against_the_local_disk_limit(vclient, conf,
                                                                     image_id):
    conf.max_local_block_devices = 2  # the image root and the flavor's ephemeral disk
    body = {"server": {"name": "plain", "flavorRef": "eph", "imageRef": image_id}}
    resp = vclient.post("/v2.1/servers", body, token=ALICE)
    _bad(resp, "You specified more local devices than the limit allows")


def test_local_disk_limit(vclient, conf, image_id):
    conf.max_local_block_devices = 0  # the image root is a local disk too
    blank = {"source_type": "blank", "destination_type": "volume", "boot_index": -1,
             "volume_size": 1}
    _bad(_create(vclient, [blank], image_ref=image_id),
         "You specified more local devices than the limit allows")


# -- the set as a whole -----------------------------------------------------------------

def test_boot_sequence(vclient, image_id):
    data = {"source_type": "blank", "destination_type": "volume", "boot_index": -1,
            "volume_size": 1}
    _bad(_create(vclient, [data]), "Boot sequence for the instance and image/block device "
                                   "mapping combination is not valid.")
    _bad(_create(vclient, [_root(image_id), dict(data, boot_index=2)]), "Boot sequence")
    _bad(_create(vclient, [_root(image_id), _root(image_id)]), "Boot sequence")
    _bad(_create(vclient, [], image_ref=""), "Missing imageRef attribute")


@pytest.mark.parametrize("bdm,message", [
    ({"source_type": "floppy"}, "Invalid input"),
    ({"destination_type": "tape"}, "Invalid input"),
    ({"boot_index": "first"}, "Invalid input"),
    ({"device_name": "/dev/v da"}, "Invalid input"),
    ({"delete_on_termination": "perhaps"}, "Invalid input"),
    ({"volume_size": 0}, "Invalid input"),
    ({"bogus": 1}, "Additional properties are not allowed"),
    ({"disk_bus": "parallel"}, "The provided disk bus parallel is not valid."),
])
def test_format(vclient, image_id, bdm, message):
    _bad(_create(vclient, [_root(image_id, **bdm)]), message)


def test_tag_and_volume_type_microversions(vclient, conductor, volumes, image_id):
    _bad(_create(vclient, [_root(image_id, tag="root")], version="2.37"),
         "Additional properties are not allowed")
    _ok(_create(vclient, [_root(image_id, tag="root")], version="2.33"), conductor)
    _, spec = _ok(_create(vclient, [_root(image_id, tag="root")], version="2.42"), conductor)
    assert spec.block_device_mappings[0].tag == "root"
    _bad(_create(vclient, [_root(image_id, volume_type="fast")], version="2.66"),
         "Additional properties are not allowed")
    _bad(_create(vclient, [_root(image_id, volume_type="fast")], version="2.67"),
         "Volume type fast could not be found.")
    volumes.volume_types.append({"id": "6d0ff92a-0ac8-4a7c-9a67-0e5c4b8a3f10",
                                 "name": "fast"})
    _ok(_create(vclient, [_root(image_id, volume_type=volumes.volume_types[-1]["id"])],
                version="2.67"), conductor)
    _, spec = _ok(_create(vclient, [_root(image_id, volume_type="fast")], version="2.67"),
                  conductor)
    assert spec.block_device_mappings[0].volume_type == "fast"
    local = {"source_type": "blank", "destination_type": "local", "volume_type": "fast"}
    _bad(_create(vclient, [local], image_ref=image_id, version="2.67"),
         "Specifying a volume_type with destination_type=local is not supported.")


def test_legacy_mappings(vclient, conductor, volumes, image_id):
    vol = volumes.create(ALICE_CTX, 1, "root", image_id=image_id)
    inst, spec = _ok(_create(vclient, [{"volume_id": vol["id"], "device_name": "vda",
                                        "delete_on_termination": "0"}], legacy=True),
                     conductor)
    [bdm] = spec.block_device_mappings
    assert (bdm.source_type, bdm.boot_index, bdm.delete_on_termination) == ("volume", 0,
                                                                           False)
    assert spec.is_bfv and inst.image_ref == ""
    _bad(_create(vclient, [{"device_name": "vdb"}], legacy=True),
         "Unrecognized legacy format.")
    body = {"server": {"name": "x", "flavorRef": "1", "imageRef": image_id,
                       "block_device_mapping": [{"volume_id": vol["id"]}],
                       "block_device_mapping_v2": [_root(image_id)]}}
    _bad(vclient.post("/v2.1/servers", body, token=ALICE),
         "Using different block_device_mapping syntaxes is not allowed in the same request.")


def test_no_block_storage(client, image_id):
    """Without Cinder, any mapping to a volume is refused clearly."""
    _bad(_create(client, [_root(image_id)]), "Volumes are not available")


def test_volumes_attached_in_server_views(vclient, conductor, volumes, image_id):
    vol = volumes.create(ALICE_CTX, 1, "data")
    data = {"uuid": vol["id"], "source_type": "volume", "destination_type": "volume",
            "boot_index": -1}
    inst, spec = _ok(_create(vclient, [_root(image_id, delete_on_termination=True), data]),
                     conductor)
    root_bdm = conductor.bdms[inst.uuid][0]
    root_bdm.volume_id = "0f0f0f0f-0000-4000-8000-000000000001"  # as the host made it
    shown = vclient.get(f"/v2.1/servers/{inst.uuid}", token=ALICE).json["server"]
    assert shown["os-extended-volumes:volumes_attached"] == [
        {"id": root_bdm.volume_id}, {"id": vol["id"]}]
    assert shown["image"] == ""
    shown = vclient.get(f"/v2.1/servers/{inst.uuid}", token=ALICE,
                        version="2.3").json["server"]
    assert shown["os-extended-volumes:volumes_attached"] == [
        {"id": root_bdm.volume_id, "delete_on_termination": True},
        {"id": vol["id"], "delete_on_termination": False}]
    listed = vclient.get("/v2.1/servers/detail", token=ALICE, version="2.79").json
    [server] = [s for s in listed["servers"] if s["id"] == inst.uuid]
    assert len(server["os-extended-volumes:volumes_attached"]) == 2


def test_rebuild_of_a_volume_backed_server(vclient, conductor, image_id):
    """Before 2.93 with the image it was made from (not re-imaged, as Nova); another
    image is Nova's 400 there."""
    inst, _ = _ok(_create(vclient, [_root(image_id)]), conductor)
    inst.vm_state, inst.task_state = "active", None
    other = str(uuid.uuid4())
    conductor.bdms[inst.uuid][0].image_id = other  # made from another image
    body = {"rebuild": {"imageRef": image_id}}
    _bad(vclient.post(f"/v2.1/servers/{inst.uuid}/action", body, token=ALICE),
         f"Image {image_id} is unacceptable: Unable to rebuild with a different image "
         "for a volume-backed server.")
    conductor.bdms[inst.uuid][0].image_id = image_id
    conductor.bdms[inst.uuid][0].volume_id = str(uuid.uuid4())  # as the host made it
    resp = vclient.post(f"/v2.1/servers/{inst.uuid}/action", body, token=ALICE,
                        version="2.92")
    assert resp.status_int == 202, resp.text
    action, params = conductor.action_params[-1]
    assert action == "rebuild" and params["values"]["image_ref"] == ""
    assert "reimage_image_id" not in params


def _other_image(images, image_id, **meta) -> str:
    base = images.show(None, image_id)
    new = images.create(None, {"name": "other", "disk_format": "raw",
                               "visibility": "public", **meta})
    images._write(dict(new, status="active", size=base.get("size") or 4096))
    return new["id"]


def test_rebuild_of_a_volume_backed_server_from_2_93_reimages_its_root(
        vclient, conductor, images, volumes, image_id):
    """From 2.93 another image is accepted: the compute host re-images the root volume
    (the server stays "booted from volume": image_ref "", as Nova keeps it), with the
    new image's properties recorded; the image must fit the flavor's memory and the
    volume (min_disk), else Nova's 400."""
    inst, _ = _ok(_create(vclient, [_root(image_id)]), conductor)
    inst.vm_state, inst.task_state = "active", None
    root = conductor.bdms[inst.uuid][0]
    root.volume_id = volumes.create(ALICE_CTX, 1, "root", image_id=image_id)["id"]
    other = _other_image(images, image_id, properties={"hw_disk_bus": "virtio"})
    url = f"/v2.1/servers/{inst.uuid}/action"

    resp = vclient.post(url, {"rebuild": {"imageRef": other}}, token=ALICE, version="2.93")
    assert resp.status_int == 202, resp.text
    assert resp.json["server"]["image"] == ""
    action, params = conductor.action_params[-1]
    assert action == "rebuild" and params["reimage_image_id"] == other
    assert params["values"]["image_ref"] == ""
    assert params["image_system_metadata"]["image_hw_disk_bus"] == "virtio"

    inst.task_state = None
    big = _other_image(images, image_id, min_disk=2)
    _bad(vclient.post(url, {"rebuild": {"imageRef": big}}, token=ALICE, version="2.93"),
         "Volume is smaller than the minimum size specified in image metadata. Volume "
         f"size is {1024 ** 3} bytes, minimum size is {2 * 1024 ** 3} bytes.")
    root.volume_size = None  # then Cinder's size of the volume counts
    _bad(vclient.post(url, {"rebuild": {"imageRef": big}}, token=ALICE, version="2.93"),
         "Volume is smaller than the minimum size")
    hungry = _other_image(images, image_id, min_ram=100000)
    _bad(vclient.post(url, {"rebuild": {"imageRef": hungry}}, token=ALICE,
                      version="2.93"), "Flavor's memory is too small for requested image.")
    # Before 2.93 another image is still refused.
    _bad(vclient.post(url, {"rebuild": {"imageRef": other}}, token=ALICE, version="2.92"),
         "Unable to rebuild with a different image for a volume-backed server.")
