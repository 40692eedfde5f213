"""A local directory image store: ``<id>.img`` holds the bytes, ``<id>.json`` the metadata.

The embedded default (nova-lite-all, the quickstart): one process, one disk. Metadata is
written atomically, and an image becomes ``active`` only once its bytes are complete,
so a half-written image is never booted. Visibility follows Glance's rule in its
simplest form: a private image is seen by its owner's project and admins only.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Optional

from nova_lite import exception
from nova_lite.image.api import ACTIVE, CHUNK, QUEUED, SAVING, ImageAPI, ImageData, matches

DISK_FORMATS = ("raw", "qcow2", "aki", "ari", "ami", "iso")
CONTAINER_FORMATS = ("bare", "aki", "ari", "ami", "ovf")
VISIBILITIES = ("public", "private", "shared", "community")
HASH_ALGO = "sha512"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _chunks(data: ImageData) -> Iterator[bytes]:
    if hasattr(data, "read"):
        while chunk := data.read(CHUNK):
            yield chunk
    else:
        yield from data


class LocalImageStore(ImageAPI):
    def __init__(self, path: str) -> None:
        self.path = path

    def _meta_path(self, image_id: str) -> str:
        return os.path.join(self.path, f"{image_id}.json")

    def _data_path(self, image_id: str) -> str:
        return os.path.join(self.path, f"{image_id}.img")

    def _read(self, image_id: str) -> dict:
        try:
            uuid.UUID(image_id)
            with open(self._meta_path(image_id)) as f:
                return json.load(f)
        except (ValueError, OSError):
            raise exception.ImageNotFound(image_id=image_id) from None

    def _write(self, meta: dict) -> dict:
        meta["updated_at"] = _now()
        os.makedirs(self.path, exist_ok=True)
        tmp = self._meta_path(meta["id"]) + f".{uuid.uuid4().hex[:8]}.part"
        with open(tmp, "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.replace(tmp, self._meta_path(meta["id"]))
        return meta

    @staticmethod
    def _visible(ctx: Any, meta: dict) -> bool:
        if ctx is None or getattr(ctx, "is_admin", False):
            return True
        return (meta.get("visibility", "public") in ("public", "community")
                or meta.get("owner") in (None, ctx.project_id))

    @staticmethod
    def _check_owner(ctx: Any, meta: dict) -> None:
        """Only the owner's project (or an admin, or the service itself) changes an
        image; an operator's import (no owner) is changed by admins only."""
        if ctx is not None and not getattr(ctx, "is_admin", False) \
                and (meta.get("owner") is None or meta["owner"] != ctx.project_id):
            raise exception.ImageNotAuthorized(image_id=meta["id"])

    # -- reads ---------------------------------------------------------------------------

    def list(self, ctx: Any, filters: Optional[dict] = None) -> list[dict]:
        if not os.path.isdir(self.path):
            return []
        images = []
        for name in sorted(os.listdir(self.path)):
            if name.endswith(".json"):
                try:
                    images.append(self.show(ctx, name[: -len(".json")]))
                except exception.ImageNotFound:
                    continue
        images = [i for i in images if matches(i, filters)]
        images.sort(key=lambda i: (i["created_at"], i["id"]))
        return images

    def show(self, ctx: Any, image_id: str) -> dict:
        meta = self._read(image_id)
        if not self._visible(ctx, meta):
            raise exception.ImageNotFound(image_id=image_id)
        return meta

    def open(self, ctx: Any, image_id: str) -> Iterator[bytes]:
        self.show(ctx, image_id)
        with open(self._data_path(image_id), "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    # -- writes --------------------------------------------------------------------------

    def create(self, ctx: Any, meta: dict) -> dict:
        disk_format = meta.get("disk_format")
        if disk_format is not None and disk_format not in DISK_FORMATS:
            raise exception.Invalid(f"disk_format must be one of {', '.join(DISK_FORMATS)}")
        container_format = meta.get("container_format")
        if container_format is None and disk_format is not None:
            container_format = disk_format if disk_format in ("aki", "ari", "ami") \
                else "bare"
        visibility = meta.get("visibility") or "private"
        if visibility not in VISIBILITIES:
            raise exception.Invalid(f"visibility must be one of {', '.join(VISIBILITIES)}")
        now = _now()
        image = {
            "id": str(uuid.uuid4()), "name": meta.get("name"), "status": QUEUED,
            "disk_format": disk_format, "container_format": container_format,
            "size": None, "virtual_size": None, "checksum": None, "os_hash_algo": None,
            "os_hash_value": None, "min_disk": int(meta.get("min_disk") or 0),
            "min_ram": int(meta.get("min_ram") or 0), "visibility": visibility,
            "owner": meta.get("owner") or getattr(ctx, "project_id", None),
            "protected": bool(meta.get("protected", False)), "created_at": now,
            "updated_at": now,
            "properties": {k: str(v) for k, v in (meta.get("properties") or {}).items()},
        }
        return self._write(image)

    def upload(self, ctx: Any, image_id: str, data: ImageData,
               disk_format: Optional[str] = None,
               container_format: Optional[str] = None) -> dict:
        meta = self.show(ctx, image_id)
        self._check_owner(ctx, meta)
        if meta["status"] != QUEUED:
            raise exception.Conflict(f"Image {image_id} is {meta['status']}, not queued.")
        if disk_format is not None:
            if disk_format not in DISK_FORMATS:
                raise exception.Invalid(
                    f"disk_format must be one of {', '.join(DISK_FORMATS)}")
            meta["disk_format"] = disk_format
        if container_format is not None:
            meta["container_format"] = container_format
        elif meta.get("container_format") is None and meta.get("disk_format"):
            meta["container_format"] = "bare"
        if not meta.get("disk_format") or not meta.get("container_format"):
            raise exception.Invalid("disk_format and container_format must be set before "
                                    "data is uploaded")
        meta["status"] = SAVING
        self._write(meta)
        md5 = hashlib.md5(usedforsecurity=False)
        multihash = hashlib.new(HASH_ALGO)
        size = 0
        tmp = self._data_path(image_id) + f".{uuid.uuid4().hex[:8]}.part"
        try:
            with open(tmp, "wb") as out:
                for chunk in _chunks(data):
                    md5.update(chunk)
                    multihash.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            os.replace(tmp, self._data_path(image_id))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            meta["status"] = QUEUED  # as Glance does after a failed upload
            self._write(meta)
            raise
        meta.update(status=ACTIVE, size=size, virtual_size=size
                    if meta["disk_format"] == "raw" else None,
                    checksum=md5.hexdigest(), os_hash_algo=HASH_ALGO,
                    os_hash_value=multihash.hexdigest())
        return self._write(meta)

    def update(self, ctx: Any, image_id: str, properties: Optional[dict] = None,
               remove: Iterable[str] = ()) -> dict:
        meta = self.show(ctx, image_id)
        self._check_owner(ctx, meta)
        props = meta.setdefault("properties", {})
        for key in remove:
            props.pop(key, None)
        props.update({k: str(v) for k, v in (properties or {}).items()})
        return self._write(meta)

    def delete(self, ctx: Any, image_id: str) -> None:
        meta = self.show(ctx, image_id)
        self._check_owner(ctx, meta)
        if meta.get("protected"):
            raise exception.Forbidden(f"Image {image_id} is protected and cannot be "
                                      "deleted.")
        for p in (self._meta_path(image_id), self._data_path(image_id)):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
