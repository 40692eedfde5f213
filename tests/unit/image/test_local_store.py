"""The local image store's life cycle: queued -> saving -> active, and clean failures."""

from __future__ import annotations

import hashlib

import pytest

from nova_lite import exception
from nova_lite.image import api as image_api
from nova_lite.image.local import LocalImageStore


@pytest.fixture
def store(tmp_path) -> LocalImageStore:
    return LocalImageStore(str(tmp_path / "images"))


def test_create_records_a_queued_image_without_data(store):
    meta = store.create("snap", {"instance_uuid": "u1", "n": 3}, min_disk=1, min_ram=64,
                        owner="proj-a")
    assert meta["status"] == image_api.QUEUED
    assert meta["size"] is None and meta["checksum"] is None
    assert meta["properties"] == {"instance_uuid": "u1", "n": "3"}
    assert (meta["min_disk"], meta["min_ram"], meta["owner"]) == (1, 64, "proj-a")
    assert meta["visibility"] == "private"
    assert store.show(meta["id"]) == meta
    assert [i["id"] for i in store.list()] == [meta["id"]]


def test_upload_makes_it_active_with_size_and_checksum(store, tmp_path):
    meta = store.create("snap")
    src = tmp_path / "disk.qcow2"
    src.write_bytes(b"q" * 3000)
    done = store.upload(meta["id"], str(src), "qcow2")
    assert done["status"] == image_api.ACTIVE
    assert (done["disk_format"], done["container_format"]) == ("qcow2", "bare")
    assert done["size"] == 3000
    assert done["checksum"] == hashlib.md5(b"q" * 3000).hexdigest()
    assert b"".join(store.open(meta["id"])) == b"q" * 3000
    out = tmp_path / "copy"
    store.download(meta["id"], str(out))
    assert out.read_bytes() == b"q" * 3000


def test_failed_upload_deletes_the_partial_image(store, tmp_path):
    meta = store.create("snap")
    with pytest.raises(OSError):
        store.upload(meta["id"], str(tmp_path / "missing"), "qcow2")
    with pytest.raises(exception.ImageNotFound):
        store.show(meta["id"])
    assert store.list() == []
    meta = store.create("snap2")
    with pytest.raises(exception.Invalid):
        store.upload(meta["id"], str(tmp_path / "missing"), "vmdk")
    assert store.list() == []


def test_only_queued_images_take_data(store, tmp_path):
    src = tmp_path / "d"
    src.write_bytes(b"x")
    meta = store.import_file(str(src), "base")
    assert meta["status"] == image_api.ACTIVE and meta["visibility"] == "public"
    with pytest.raises(exception.Invalid):
        store.upload(meta["id"], str(src), "raw")
    assert store.show(meta["id"])["status"] == image_api.ACTIVE  # left alone


def test_queued_image_cannot_be_downloaded(store, tmp_path):
    meta = store.create("snap")
    with pytest.raises(exception.Invalid):
        store.download(meta["id"], str(tmp_path / "out"))


def test_list_filters_match_attributes_then_properties(store, tmp_path):
    src = tmp_path / "d"
    src.write_bytes(b"x")
    a = store.create("a", {"instance_uuid": "u1", "image_type": "backup",
                           "backup_type": "daily"})
    b = store.create("b", {"instance_uuid": "u1", "image_type": "snapshot"})
    store.create("c", {"instance_uuid": "u2", "image_type": "backup"})
    store.upload(b["id"], str(src), "raw")
    assert [i["id"] for i in store.list({"instance_uuid": "u1"})] == [a["id"], b["id"]]
    assert [i["id"] for i in store.list({"instance_uuid": "u1", "image_type": "backup",
                                         "backup_type": "daily"})] == [a["id"]]
    assert [i["id"] for i in store.list({"status": "active"})] == [b["id"]]
    assert store.list({"name": "b", "status": "queued"}) == []


def test_delete(store):
    meta = store.create("snap")
    store.delete(meta["id"])
    with pytest.raises(exception.ImageNotFound):
        store.delete(meta["id"])
