"""A local directory image store: ``<id>.img`` holds the bytes, ``<id>.json`` the metadata.

Every metadata write is atomic (written aside, then renamed), and the bytes are renamed
into place before the metadata says ``active``, so a reader never sees a half image as
usable.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from typing import Iterator, Optional

from nova_lite import exception
from nova_lite.image.api import ACTIVE, QUEUED, SAVING, ImageBackend, matches

CHUNK = 1024 * 1024
DISK_FORMATS = ("raw", "qcow2", "aki", "ari", "ami", "iso")
CONTAINER_FORMATS = ("bare", "aki", "ari", "ami", "ovf")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_formats(disk_format: Optional[str], container_format: Optional[str]) -> None:
    if disk_format is not None and disk_format not in DISK_FORMATS:
        raise exception.Invalid(f"disk_format must be one of {', '.join(DISK_FORMATS)}")
    if container_format is not None and container_format not in CONTAINER_FORMATS:
        raise exception.Invalid(
            f"container_format must be one of {', '.join(CONTAINER_FORMATS)}")


class LocalImageStore(ImageBackend):
    def __init__(self, path: str) -> None:
        self.path = path

    def _meta_path(self, image_id: str) -> str:
        return os.path.join(self.path, f"{image_id}.json")

    def _data_path(self, image_id: str) -> str:
        return os.path.join(self.path, f"{image_id}.img")

    def _write_meta(self, meta: dict) -> None:
        tmp = self._meta_path(meta["id"]) + f".{uuid.uuid4().hex[:8]}.part"
        with open(tmp, "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.replace(tmp, self._meta_path(meta["id"]))

    def list(self, filters: Optional[dict] = None) -> list[dict]:
        if not os.path.isdir(self.path):
            return []
        images = []
        for name in sorted(os.listdir(self.path)):
            if name.endswith(".json"):
                try:
                    image = self.show(name[: -len(".json")])
                except exception.ImageNotFound:
                    continue
                if matches(image, filters):
                    images.append(image)
        images.sort(key=lambda i: (i["created_at"], i["id"]))
        return images

    def show(self, image_id: str) -> dict:
        try:
            uuid.UUID(image_id)
            with open(self._meta_path(image_id)) as f:
                return json.load(f)
        except (ValueError, OSError):
            raise exception.ImageNotFound(image_id=image_id) from None

    def open(self, image_id: str) -> Iterator[bytes]:
        self.show(image_id)
        with open(self._data_path(image_id), "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def create(self, name: str, properties: Optional[dict] = None,
               disk_format: Optional[str] = None, container_format: Optional[str] = None,
               min_disk: int = 0, min_ram: int = 0, owner: Optional[str] = None,
               visibility: str = "private") -> dict:
        _check_formats(disk_format, container_format)
        os.makedirs(self.path, exist_ok=True)
        now = _now()
        meta = {
            "id": str(uuid.uuid4()), "name": name, "disk_format": disk_format,
            "container_format": container_format, "size": None, "checksum": None,
            "status": QUEUED, "created_at": now, "updated_at": now,
            "min_disk": int(min_disk or 0), "min_ram": int(min_ram or 0), "owner": owner,
            "visibility": visibility,
            "properties": {k: str(v) for k, v in (properties or {}).items()},
        }
        self._write_meta(meta)
        return meta

    def upload(self, image_id: str, src_path: str, disk_format: str,
               container_format: str = "bare") -> dict:
        meta = self.show(image_id)
        if meta["status"] != QUEUED:
            raise exception.Invalid(f"image {image_id} is {meta['status']}, not queued: "
                                    "its data cannot be uploaded")
        try:
            _check_formats(disk_format, container_format)
            meta.update(status=SAVING, disk_format=disk_format,
                        container_format=container_format, updated_at=_now())
            self._write_meta(meta)
            md5 = hashlib.md5(usedforsecurity=False)
            size = 0
            tmp = self._data_path(image_id) + ".part"
            with open(src_path, "rb") as src, open(tmp, "wb") as dst:
                while chunk := src.read(CHUNK):
                    md5.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
            os.replace(tmp, self._data_path(image_id))
            meta.update(status=ACTIVE, size=size, checksum=md5.hexdigest(),
                        updated_at=_now())
            self._write_meta(meta)
            return meta
        except BaseException:
            self._remove(image_id)
            raise

    def import_file(
        self,
        src_path: str,
        name: str,
        disk_format: str = "raw",
        container_format: Optional[str] = None,
        properties: Optional[dict] = None,
    ) -> dict:
        """Copy src_path into the store as a public image; return its metadata."""
        if container_format is None:
            container_format = disk_format if disk_format in ("aki", "ari", "ami") else "bare"
        _check_formats(disk_format, container_format)
        meta = self.create(name, properties, disk_format, container_format,
                           visibility="public")
        return self.upload(meta["id"], src_path, disk_format, container_format)

    def delete(self, image_id: str) -> None:
        self.show(image_id)
        self._remove(image_id)

    def _remove(self, image_id: str) -> None:
        for p in (self._meta_path(image_id), self._data_path(image_id),
                  self._data_path(image_id) + ".part"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(p)
