"""The Glance backend of the image API against a fake transport (tests/unit/image/
fake_glance.py); the same client runs against a real Glance in tests/functional/glance."""

from __future__ import annotations

import os
import types

import pytest

from nova_lite import exception
from nova_lite.context import RequestContext
from nova_lite.image import api as image_api
from nova_lite.image.glance import GlanceImageAPI, from_glance
from tests.unit.image.fake_glance import FakeGlanceSession

GLANCE = "http://glance.test:9292"


@pytest.fixture
def fake() -> FakeGlanceSession:
    return FakeGlanceSession()


@pytest.fixture
def client(fake: FakeGlanceSession) -> GlanceImageAPI:
    return GlanceImageAPI(fake, [GLANCE], num_retries=2, chunk_size=7)


def ctx(token: str, project: str) -> RequestContext:
    return RequestContext(user_id="u", project_id=project, roles=["member"],
                          auth_token=token, global_request_id="req-g")


A, B = ctx("tok-a", "proj-a"), ctx("tok-b", "proj-b")


def test_show_splits_base_attributes_from_properties(client, fake):
    image_id = fake.add(b"data", hw_disk_bus="scsi", os_glance_importing_to_stores="",
                        kernel_id="k")
    image = client.show(A, image_id)
    assert image["id"] == image_id and image["status"] == "active"
    assert image["os_hash_algo"] == "sha512" and image["checksum"]
    assert image["properties"] == {"hw_disk_bus": "scsi", "kernel_id": "k"}
    assert set(image) == set(image_api.BASE_KEYS) | {"properties"}


def test_requests_carry_the_users_token_or_the_service_users(client, fake):
    image_id = fake.add(b"data")
    client.show(A, image_id)
    client.show(None, image_id)
    assert [r["token"] for r in fake.requests] == ["tok-a", "service-token"]
    assert fake.requests[0]["request_id"] == "req-g"
    assert fake.requests[0]["url"] == f"{GLANCE}/v2/images/{image_id}"


def test_noauth_tokens_are_not_sent_to_glance(fake):
    client = GlanceImageAPI(fake, [GLANCE], user_tokens=False)
    client.show(ctx("alice:proj-a", "proj-a"), fake.add(b"x"))
    assert fake.requests[-1]["token"] == "service-token"


def test_private_image_of_another_project_is_not_found(client, fake):
    private = fake.add(b"data", owner="proj-a")
    public = fake.add(b"data", owner="proj-a", visibility="public")
    with pytest.raises(exception.ImageNotFound):
        client.show(B, private)
    assert client.show(B, public)["id"] == public
    assert [i["id"] for i in client.list(B)] == [public]
    assert [i["id"] for i in client.list(A)] == [private, public]


def test_list_follows_next_links_and_passes_filters(client, fake):
    ids = [fake.add(b"x", name=f"n{i}") for i in range(5)]
    fake_limit = {"limit": "2"}
    client_list = GlanceImageAPI(fake, [GLANCE])
    # a small page size on the fake's side: the client must follow "next"
    orig = fake._list
    fake._list = lambda p, a, params: orig(p, a, {**params, **fake_limit})
    assert [i["id"] for i in client_list.list(A)] == ids
    assert [i["id"] for i in client_list.list(A, {"name": "n3"})] == [ids[3]]
    assert fake.requests[-1]["params"]["name"] == "n3"


def test_download_streams_and_verifies(client, fake, tmp_path):
    data = os.urandom(100)
    image_id = fake.add(data)
    dest = tmp_path / "base"
    meta = client.download(None, image_id, str(dest))
    assert dest.read_bytes() == data and meta["id"] == image_id
    assert fake.requests[-1]["stream"] is True
    assert os.listdir(tmp_path) == ["base"]


def test_corrupt_download_leaves_nothing(client, fake, tmp_path):
    image_id = fake.add(os.urandom(100))
    fake.corrupt.add(image_id)
    with pytest.raises(exception.ImageCorrupt, match="md5 checksum mismatch"):
        client.download(None, image_id, str(tmp_path / "base"))
    assert os.listdir(tmp_path) == []


def test_wrong_multihash_is_refused_even_when_md5_matches(client, fake, tmp_path):
    image_id = fake.add(b"some bytes")
    fake.images[image_id]["os_hash_value"] = "0" * 128
    with pytest.raises(exception.ImageCorrupt, match="sha512 hash mismatch"):
        client.download(None, image_id, str(tmp_path / "base"))
    assert os.listdir(tmp_path) == []


def test_wrong_size_is_refused(client, fake, tmp_path):
    image_id = fake.add(b"some bytes")
    fake.images[image_id]["size"] = 11
    with pytest.raises(exception.ImageCorrupt, match="got 10 bytes, expected 11"):
        client.download(None, image_id, str(tmp_path / "base"))


def test_image_that_is_not_active_is_not_downloaded(client, fake, tmp_path):
    image_id = fake.add(b"x", status="queued")
    with pytest.raises(exception.ImageUnacceptable, match="status is queued"):
        client.download(None, image_id, str(tmp_path / "base"))


def test_snapshot_create_upload_makes_an_active_image(client, fake):
    image = client.create(A, {"name": "snap", "disk_format": "qcow2",
                              "container_format": "bare", "min_ram": 64,
                              "properties": {"image_type": "snapshot",
                                             "instance_uuid": "abc", "empty": None}})
    assert image["status"] == "queued" and image["owner"] == "proj-a"
    assert image["properties"] == {"image_type": "snapshot", "instance_uuid": "abc"}
    assert fake.requests[-1]["json"]["min_ram"] == 64
    active = client.upload(A, image["id"], iter([b"abc", b"def"]))
    assert fake.saw_saving
    assert active["status"] == "active" and active["size"] == 6
    assert fake.data[image["id"]] == b"abcdef"


def test_upload_from_a_file_object_in_chunks(client, fake, tmp_path):
    src = tmp_path / "disk"
    src.write_bytes(b"0123456789" * 3)
    image = client.import_file(A, str(src), {"name": "imp", "disk_format": "raw",
                                              "container_format": "bare"})
    assert image["status"] == "active" and fake.data[image["id"]] == src.read_bytes()


def test_failed_upload_raises_and_import_deletes_the_partial_image(client, fake, tmp_path):
    fake.cut_upload_after = 1
    image = client.create(A, {"name": "snap", "disk_format": "raw",
                              "container_format": "bare"})
    with pytest.raises(exception.ImageServiceUnavailable):
        client.upload(A, image["id"], iter([b"abc", b"def"]))
    assert client.show(A, image["id"])["status"] == "queued"
    src = tmp_path / "disk"
    src.write_bytes(b"x" * 100)
    with pytest.raises(exception.ImageServiceUnavailable):
        client.import_file(A, str(src), {"name": "imp", "disk_format": "raw",
                                         "container_format": "bare"})
    assert [i["name"] for i in client.list(A)] == ["snap"]


def test_update_adds_replaces_and_removes_properties(client, fake):
    image_id = fake.add(b"x", os_distro="cirros", hw_vif_model="e1000")
    image = client.update(A, image_id, {"os_distro": "debian", "new": 1},
                          remove=["hw_vif_model", "absent"])
    assert image["properties"] == {"os_distro": "debian", "new": "1"}
    ops = fake.requests[-1]["json"]
    assert {"op": "replace", "path": "/os_distro", "value": "debian"} in ops
    assert {"op": "add", "path": "/new", "value": "1"} in ops
    assert {"op": "remove", "path": "/hw_vif_model"} in ops and len(ops) == 3


def test_delete(client, fake):
    image_id = fake.add(b"x")
    protected = fake.add(b"x", protected=True)
    client.delete(A, image_id)
    assert image_id not in fake.images
    with pytest.raises(exception.ImageNotFound):
        client.delete(A, image_id)
    with pytest.raises(exception.Forbidden, match="protected"):
        client.delete(A, protected)
    with pytest.raises(exception.ImageNotFound):
        client.delete(B, protected)


def test_connection_failure_moves_to_the_next_server(fake):
    client = GlanceImageAPI(fake, ["http://down.test:9292", GLANCE + "/v2/"],
                            num_retries=1)
    fake.down.add("http://down.test:9292")
    image_id = fake.add(b"x")
    for _ in range(2):  # whichever server comes first, the request succeeds
        assert client.show(A, image_id)["id"] == image_id
    assert {r["url"].split("/v2/")[0] for r in fake.requests} == {
        "http://down.test:9292", GLANCE}


def test_503_is_retried_then_gives_up(client, fake):
    image_id = fake.add(b"x")
    fake.status_once = [503]
    assert client.show(A, image_id)["id"] == image_id
    fake.status_once = [503, 503, 503]
    with pytest.raises(exception.ImageServiceUnavailable, match="HTTP 503"):
        client.show(A, image_id)


def test_endpoint_from_the_catalog_without_its_version(fake):
    calls = []

    def find() -> str:
        calls.append(1)
        return GLANCE + "/v2"

    client = GlanceImageAPI(fake, find_endpoint=find)
    image_id = fake.add(b"x")
    client.show(A, image_id)
    client.show(A, image_id)
    assert len(calls) == 1
    assert fake.requests[-1]["url"] == f"{GLANCE}/v2/images/{image_id}"


def test_missing_catalog_endpoint_is_unavailable(fake):
    client = GlanceImageAPI(fake, find_endpoint=lambda: None, num_retries=0)
    with pytest.raises(exception.ImageServiceUnavailable, match="no image endpoint"):
        client.show(A, "x")


def test_from_glance_stringifies_property_values():
    image = from_glance({"id": "i", "status": "active", "hw_qemu_guest_agent": True,
                         "self": "/v2/images/i", "stores": "file"})
    assert image["properties"] == {"hw_qemu_guest_agent": "True"}


def _conf(**glance: object) -> types.SimpleNamespace:
    g = dict(api_servers=[], endpoint_override=None, auth_type=None,
             verify_glance_signatures=False, num_retries=3, download_chunk_size=65536)
    g.update(glance)
    return types.SimpleNamespace(
        glance=types.SimpleNamespace(**g),
        image=types.SimpleNamespace(backend="auto", local_store_path="/nonexistent"),
        api=types.SimpleNamespace(auth_strategy="keystone"))


def test_backend_auto_means_glance_once_glance_is_configured():
    assert image_api.backend_name(_conf()) == "local"
    assert image_api.backend_name(_conf(api_servers=[GLANCE])) == "glance"
    assert image_api.backend_name(_conf(auth_type="password")) == "glance"
    conf = _conf(auth_type="password")
    conf.image.backend = "local"
    assert image_api.backend_name(conf) == "local"


def test_signature_verification_is_refused_at_start():
    with pytest.raises(exception.ConfigError, match="verify_glance_signatures"):
        GlanceImageAPI.from_conf(_conf(api_servers=[GLANCE], verify_glance_signatures=True))


def test_upload_sets_formats_first_and_property_filters_reach_glance(client, fake):
    image = client.create(A, {"name": "snap", "properties": {"instance_uuid": "u1",
                                                             "image_type": "backup"}})
    done = client.upload(A, image["id"], [b"data"], disk_format="qcow2",
                         container_format="bare")
    assert (done["disk_format"], done["container_format"]) == ("qcow2", "bare")
    patch = [r for r in fake.requests if r["method"] == "PATCH"][0]["json"]
    assert {"op": "replace", "path": "/disk_format", "value": "qcow2"} in patch
    client.list(A, {"instance_uuid": "u1", "image_type": "backup"})
    assert fake.requests[-1]["params"]["instance_uuid"] == "u1"
