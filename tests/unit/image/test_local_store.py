"""The local backend of the image API: the same contract as the Glance backend."""

from __future__ import annotations

import hashlib
import os

import pytest

from nova_lite import exception
from nova_lite.context import RequestContext
from nova_lite.image.local import LocalImageStore

A = RequestContext(user_id="a", project_id="proj-a", roles=["member"])
B = RequestContext(user_id="b", project_id="proj-b", roles=["member"])
ADMIN = RequestContext(user_id="admin", project_id="admin", roles=["admin"])


@pytest.fixture
def store(tmp_path) -> LocalImageStore:
    return LocalImageStore(str(tmp_path / "images"))


def test_create_upload_show_download(store, tmp_path):
    image = store.create(A, {"name": "snap", "disk_format": "raw",
                             "properties": {"image_type": "snapshot"}})
    assert image["status"] == "queued" and image["owner"] == "proj-a"
    assert image["container_format"] == "bare" and image["visibility"] == "private"
    data = os.urandom(3000)
    active = store.upload(A, image["id"], iter([data[:1000], data[1000:]]))
    assert active["status"] == "active" and active["size"] == 3000
    assert active["os_hash_algo"] == "sha512"
    assert active["os_hash_value"] == hashlib.sha512(data).hexdigest()
    dest = tmp_path / "copy"
    store.download(A, image["id"], str(dest))
    assert dest.read_bytes() == data


def test_private_images_are_the_owners(store):
    image = store.create(A, {"name": "p", "disk_format": "raw"})
    with pytest.raises(exception.ImageNotFound):
        store.show(B, image["id"])
    assert store.show(ADMIN, image["id"])["id"] == image["id"]
    assert store.show(None, image["id"])["id"] == image["id"]
    assert store.list(B) == [] and len(store.list(A)) == 1
    with pytest.raises(exception.ImageNotFound):
        store.delete(B, image["id"])


def test_failed_upload_returns_to_queued(store):
    image = store.create(A, {"name": "snap", "disk_format": "raw"})

    def broken():
        yield b"abc"
        raise OSError("disk went away")

    with pytest.raises(OSError):
        store.upload(A, image["id"], broken())
    assert store.show(A, image["id"])["status"] == "queued"
    assert sorted(os.listdir(store.path)) == [f"{image['id']}.json"]


def test_tampered_data_fails_download(store, tmp_path):
    src = tmp_path / "src"
    src.write_bytes(b"x" * 100)
    image = store.import_file(None, str(src), {"name": "i", "disk_format": "raw"})
    with open(os.path.join(store.path, f"{image['id']}.img"), "r+b") as f:
        f.write(b"y")
    with pytest.raises(exception.ImageCorrupt):
        store.download(None, image["id"], str(tmp_path / "dest"))
    assert not (tmp_path / "dest").exists()


def test_update_and_protected_delete(store):
    image = store.create(A, {"name": "p", "disk_format": "raw", "protected": True,
                             "properties": {"a": "1", "b": "2"}})
    updated = store.update(A, image["id"], {"c": 3}, remove=["a"])
    assert updated["properties"] == {"b": "2", "c": "3"}
    with pytest.raises(exception.Forbidden, match="protected"):
        store.delete(A, image["id"])


def test_bad_formats_are_refused(store):
    with pytest.raises(exception.Invalid, match="disk_format"):
        store.create(A, {"name": "x", "disk_format": "vmdk"})
    with pytest.raises(exception.Invalid, match="visibility"):
        store.create(A, {"name": "x", "disk_format": "raw", "visibility": "everyone"})


def test_list_filters_match_attributes_then_properties(store, tmp_path):
    a = store.create(A, {"name": "a", "disk_format": "raw", "properties": {
        "instance_uuid": "u1", "image_type": "backup", "backup_type": "daily"}})
    b = store.create(A, {"name": "b", "disk_format": "raw", "properties": {
        "instance_uuid": "u1", "image_type": "snapshot"}})
    store.create(A, {"name": "c", "disk_format": "raw", "properties": {
        "instance_uuid": "u2", "image_type": "backup"}})
    store.upload(A, b["id"], [b"x"])
    assert [i["id"] for i in store.list(A, {"instance_uuid": "u1"})] == [a["id"], b["id"]]
    assert [i["id"] for i in store.list(A, {"instance_uuid": "u1", "image_type": "backup",
                                            "backup_type": "daily"})] == [a["id"]]
    assert [i["id"] for i in store.list(A, {"status": "active"})] == [b["id"]]
    assert store.list(A, {"name": "b", "status": "queued"}) == []


def test_upload_sets_the_format_known_only_after_the_snapshot(store):
    image = store.create(A, {"name": "snap"})
    assert image["disk_format"] is None
    done = store.upload(A, image["id"], [b"q" * 10], disk_format="qcow2")
    assert (done["disk_format"], done["container_format"]) == ("qcow2", "bare")
    assert done["status"] == "active"
