"""The per-host image cache: one verified download per base, tampering detected."""

from __future__ import annotations

import os
import threading

import pytest

from nova_lite.image import api as image_api
from nova_lite.image.api import HostImageSource
from nova_lite.image.local import LocalImageStore
from nova_lite.virt import imagecache
from nova_lite.virt.driver import DriverError


class CountingSource(HostImageSource):
    def __init__(self, store: LocalImageStore) -> None:
        super().__init__(store)
        self.downloads = 0

    def download(self, image_id, dest_path, meta=None):
        self.downloads += 1
        return super().download(image_id, dest_path, meta)


@pytest.fixture
def store(tmp_path) -> LocalImageStore:
    return LocalImageStore(str(tmp_path / "images"))


def _image(store: LocalImageStore, data: bytes) -> str:
    image = store.create(None, {"name": "i", "disk_format": "raw", "visibility": "public"})
    return store.upload(None, image["id"], [data])["id"]


def test_warm_fetch_does_not_hash_the_base_again(store, tmp_path, monkeypatch):
    source = CountingSource(store)
    cache = imagecache.ImageCache(str(tmp_path / "instances"), source)
    image_id = _image(store, os.urandom(10000))
    path, meta = cache.fetch(image_id)
    hashed = []
    real = image_api.Verifier.file
    monkeypatch.setattr(image_api.Verifier, "file",
                        classmethod(lambda cls, p, m: hashed.append(p) or real(p, m)))
    for _ in range(3):
        assert cache.fetch(image_id)[0] == path
    assert source.downloads == 1 and hashed == []


def test_tampered_base_is_removed_and_refused_then_fetched_again(store, tmp_path):
    source = CountingSource(store)
    cache = imagecache.ImageCache(str(tmp_path / "instances"), source)
    data = os.urandom(10000)
    image_id = _image(store, data)
    path, _ = cache.fetch(image_id)
    with open(path, "r+b") as f:
        f.write(b"evil")
    with pytest.raises(DriverError, match="failed verification and was removed"):
        cache.fetch(image_id)
    assert not os.path.exists(path)
    assert cache.fetch(image_id)[0] == path
    with open(path, "rb") as f:
        assert f.read() == data
    assert source.downloads == 2


def test_touched_but_intact_base_is_hashed_once_and_kept(store, tmp_path):
    cache = imagecache.ImageCache(str(tmp_path / "instances"), HostImageSource(store))
    image_id = _image(store, b"x" * 5000)
    path, _ = cache.fetch(image_id)
    os.chmod(path, 0o600)  # changes ctime, not the bytes
    assert cache.fetch(image_id)[0] == path and os.path.exists(path)


def test_concurrent_fetches_download_once_and_failed_downloads_leave_nothing(store,
                                                                            tmp_path):
    source = CountingSource(store)
    cache = imagecache.ImageCache(str(tmp_path / "instances"), source)
    image_id = _image(store, os.urandom(200000))
    errors: list = []

    def fetch() -> None:
        try:
            cache.fetch(image_id)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=fetch) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and source.downloads == 1

    bad = _image(store, b"y" * 5000)
    with open(os.path.join(store.path, f"{bad}.img"), "r+b") as f:
        f.write(b"z")
    with pytest.raises(DriverError, match="checksum"):
        cache.fetch(bad)
    assert not os.path.exists(cache.path(bad))
    assert [n for n in os.listdir(cache.base_dir) if n.endswith(".download")] == []
