"""The image service seen by nova_lite: one interface, two backends.

``glance`` talks to a real Glance v2 (nova_lite.image.glance); ``local`` is a directory
store for the embedded all-in-one mode and the quickstart (nova_lite.image.local).
Callers never know which one they hold.

Every method takes the caller's RequestContext first (as Nova's image API does): the
Glance backend acts with that user's token when it has one, so Glance itself enforces
visibility and membership; with ``None`` (a compute host's own work: downloads) it acts
as the ``[glance]`` service user.

Images are plain dicts in one shape for both backends::

    {"id", "name", "status" (queued|saving|active|killed|deleted|...), "disk_format",
     "container_format", "size", "virtual_size", "checksum" (md5), "os_hash_algo",
     "os_hash_value", "min_disk", "min_ram", "visibility", "owner", "protected",
     "created_at", "updated_at", "properties": {custom key: string value}}
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Any, BinaryIO, Iterable, Iterator, Optional, Union

from nova_lite import exception

CHUNK = 1024 * 1024

# Image statuses, as Glance names them.
QUEUED = "queued"
SAVING = "saving"
ACTIVE = "active"

# Keys of the image dict that are Glance's own; everything else is a custom property.
BASE_KEYS = ("id", "name", "status", "disk_format", "container_format", "size",
             "virtual_size", "checksum", "os_hash_algo", "os_hash_value", "min_disk",
             "min_ram", "visibility", "owner", "protected", "created_at", "updated_at")

ImageData = Union[Iterable[bytes], BinaryIO]


class ImageAPI:
    """What every image backend offers (see the module docstring for the image dict)."""

    def list(self, ctx: Any, filters: Optional[dict] = None) -> list[dict]:
        """Images ``ctx`` may see, oldest first. ``filters``: {key: value}, all must
        match exactly; a key is a base attribute (name, status, ...) or else a custom
        property (instance_uuid, image_type, ...), as Glance's query parameters."""
        raise NotImplementedError

    def show(self, ctx: Any, image_id: str) -> dict:
        """One image; raises ImageNotFound (also for an image ``ctx`` may not see)."""
        raise NotImplementedError

    def open(self, ctx: Any, image_id: str) -> Iterator[bytes]:
        """The image's bytes, streamed in chunks (unverified: see download)."""
        raise NotImplementedError

    def create(self, ctx: Any, meta: dict) -> dict:
        """A new image record without data (status ``queued``), owned by ctx's project.

        ``meta``: name, disk_format, container_format, min_disk, min_ram, visibility
        (default private), properties.
        """
        raise NotImplementedError

    def upload(self, ctx: Any, image_id: str, data: ImageData,
               disk_format: Optional[str] = None,
               container_format: Optional[str] = None) -> dict:
        """Store the bytes of a queued image (``saving`` meanwhile); the active image.

        ``disk_format``/``container_format``, when given, are set first (a snapshot's
        format is known once the hypervisor wrote it). On failure the image is left
        ``queued``: the caller deletes it.
        """
        raise NotImplementedError

    def update(self, ctx: Any, image_id: str, properties: Optional[dict] = None,
               remove: Iterable[str] = ()) -> dict:
        """Set and remove custom properties; the updated image."""
        raise NotImplementedError

    def delete(self, ctx: Any, image_id: str) -> None:
        """Delete an image; raises ImageNotFound, or Forbidden (protected, not owner)."""
        raise NotImplementedError

    # -- shared behaviour --------------------------------------------------------------

    def import_file(self, ctx: Any, src_path: str, meta: dict) -> dict:
        """create + upload of a local file (``nova-lite-manage image import``); the
        active image. A failed upload deletes the new image."""
        image = self.create(ctx, meta)
        try:
            with open(src_path, "rb") as src:
                return self.upload(ctx, image["id"], src)
        except BaseException:
            try:
                self.delete(ctx, image["id"])
            except exception.NovaLiteException:
                pass
            raise

    def download(self, ctx: Any, image_id: str, dest_path: str,
                 meta: Optional[dict] = None) -> dict:
        """Stream the image into dest_path, verifying it on the way; its metadata.

        Size, the md5 ``checksum`` and the ``os_hash_algo``/``os_hash_value`` multihash
        (sha512 in Glance) must all match, else ImageCorrupt is raised and nothing is
        left at dest_path: the bytes go to a temporary file renamed into place only
        once verified.
        """
        meta = meta or self.show(ctx, image_id)
        if meta.get("status") != ACTIVE:
            raise exception.ImageUnacceptable(image_id=image_id,
                                              reason=f"status is {meta.get('status')}")
        verifier = Verifier(meta)
        tmp = f"{dest_path}.{uuid.uuid4().hex[:8]}.part"
        try:
            with open(tmp, "wb") as out:
                for chunk in self.open(ctx, image_id):
                    verifier.update(chunk)
                    out.write(chunk)
            verifier.check()
            os.replace(tmp, dest_path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return meta


def matches(image: dict, filters: Optional[dict]) -> bool:
    """Whether an image dict passes list filters (base attribute, else property)."""
    props = image.get("properties") or {}
    for key, value in (filters or {}).items():
        have = image.get(key) if key in BASE_KEYS else props.get(key)
        if have is None or str(have) != str(value):
            return False
    return True


class Verifier:
    """Checks bytes against an image's size, md5 checksum and multihash."""

    def __init__(self, meta: dict) -> None:
        self.meta = meta
        self.size = 0
        self.md5 = hashlib.md5(usedforsecurity=False) if meta.get("checksum") else None
        algo, value = meta.get("os_hash_algo"), meta.get("os_hash_value")
        self.multihash = None
        if algo and value:
            try:
                self.multihash = hashlib.new(algo)
            except ValueError:
                raise exception.ImageUnacceptable(
                    image_id=meta.get("id"),
                    reason=f"unsupported os_hash_algo {algo!r}") from None

    def update(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.md5 is not None:
            self.md5.update(chunk)
        if self.multihash is not None:
            self.multihash.update(chunk)

    def check(self) -> None:
        meta, image_id = self.meta, self.meta.get("id")
        if meta.get("size") is not None and self.size != meta["size"]:
            raise exception.ImageCorrupt(
                image_id=image_id, reason=f"got {self.size} bytes, expected {meta['size']}")
        if self.md5 is not None and self.md5.hexdigest() != meta["checksum"]:
            raise exception.ImageCorrupt(image_id=image_id, reason="md5 checksum mismatch")
        if self.multihash is not None and self.multihash.hexdigest() != meta["os_hash_value"]:
            raise exception.ImageCorrupt(
                image_id=image_id, reason=f"{meta['os_hash_algo']} hash mismatch")

    @classmethod
    def file(cls, path: str, meta: dict) -> None:
        """Verify a file already on disk (a cached base) against meta."""
        verifier = cls(meta)
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                verifier.update(chunk)
        verifier.check()


class HostImageSource:
    """The virt driver's view of the image API (see nova_lite.virt.driver.ImageSource):
    a compute host's own reads, made without a user's context."""

    def __init__(self, image_api: ImageAPI) -> None:
        self.image_api = image_api

    def show(self, image_id: str) -> dict:
        return self.image_api.show(None, image_id)

    def download(self, image_id: str, dest_path: str, meta: Optional[dict] = None) -> dict:
        return self.image_api.download(None, image_id, dest_path, meta)


def backend_name(conf: Any) -> str:
    """``[image] backend``; ``auto`` means glance when ``[glance]`` says where Glance is
    or how to log in to it (an operator's install), else the local store."""
    backend = conf.image.backend
    if backend != "auto":
        return backend
    g = conf.glance
    if g.api_servers or g.endpoint_override or g.auth_type:
        return "glance"
    return "local"


def get_image_api(conf: Any) -> ImageAPI:
    """The configured image backend."""
    backend = backend_name(conf)
    if backend == "local":
        from nova_lite.image import local

        return local.LocalImageStore(conf.image.local_store_path)
    if backend == "glance":
        from nova_lite.image import glance

        return glance.GlanceImageAPI.from_conf(conf)
    raise exception.ConfigError(reason=f"unknown [image] backend {backend!r}")
