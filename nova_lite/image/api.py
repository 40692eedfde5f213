"""The image service seen by nova_lite: one interface, pluggable backends.

Only a local file store exists today; a Glance backend can be added behind the same
interface (``[image] backend``) without touching the API or compute code.

Images nova_lite makes itself (snapshots, backups, shelved servers) follow Glance's life
cycle: ``create`` records an image without data (status ``queued``); ``upload`` stores
its bytes (``saving``, then ``active``) and, when the upload fails, deletes the partial
image before raising, so a failed snapshot never leaves a half image behind. Computes
upload through this interface only: no path is shared between hosts.
"""

from __future__ import annotations

from typing import Any, Iterator, Optional

from nova_lite import exception

# Image statuses, as Glance names them.
QUEUED = "queued"
SAVING = "saving"
ACTIVE = "active"


class ImageBackend:
    """What every image backend offers."""

    def list(self, filters: Optional[dict] = None) -> list[dict]:
        """Images, oldest first. ``filters``: {key: value} that must all match; a key is
        an image attribute (``status``, ``name``) or else a property."""
        raise NotImplementedError

    def show(self, image_id: str) -> dict:
        """Metadata of one image; raises exception.ImageNotFound."""
        raise NotImplementedError

    def open(self, image_id: str) -> Iterator[bytes]:
        """Iterate over the image's bytes."""
        raise NotImplementedError

    def create(self, name: str, properties: Optional[dict] = None,
               disk_format: Optional[str] = None, container_format: Optional[str] = None,
               min_disk: int = 0, min_ram: int = 0, owner: Optional[str] = None,
               visibility: str = "private") -> dict:
        """Record a new image without data (status ``queued``); return its metadata."""
        raise NotImplementedError

    def upload(self, image_id: str, src_path: str, disk_format: str,
               container_format: str = "bare") -> dict:
        """Store the bytes of a queued image from a local file: ``saving`` while they are
        copied, then ``active``. On any failure the image is deleted and the error raised.
        Returns the final metadata (with size and checksum)."""
        raise NotImplementedError

    def delete(self, image_id: str) -> None:
        """Remove the image and its data; raises exception.ImageNotFound."""
        raise NotImplementedError

    def download(self, image_id: str, dest_path: str) -> None:
        """Write the image to dest_path, verifying size and checksum on the way."""
        import hashlib
        import os

        meta = self.show(image_id)
        if meta.get("status", ACTIVE) != ACTIVE:
            raise exception.Invalid(f"image {image_id} is {meta['status']}, not active")
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        tmp = f"{dest_path}.part"
        with open(tmp, "wb") as out:
            for chunk in self.open(image_id):
                md5.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if size != meta["size"] or md5.hexdigest() != meta["checksum"]:
            os.unlink(tmp)
            raise exception.ImageCorrupt(image_id=image_id)
        os.replace(tmp, dest_path)


def matches(image: dict, filters: Optional[dict]) -> bool:
    """Does ``image`` satisfy list ``filters`` (attributes first, then properties)?"""
    props = image.get("properties") or {}
    for key, want in (filters or {}).items():
        have = image[key] if key in image and key != "properties" else props.get(key)
        if have is None or str(have) != str(want):
            return False
    return True


def get_image_api(conf: Any) -> ImageBackend:
    """The configured image backend."""
    from nova_lite.image import local

    backend = conf.image.backend
    if backend == "local":
        return local.LocalImageStore(conf.image.local_store_path)
    raise exception.ConfigError(reason=f"unknown [image] backend {backend!r}")
