"""A local directory image store: ``<id>.img`` holds the bytes, ``<id>.json`` the metadata.

Metadata is written last (atomically), so a half-imported image is never listed.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from typing import Iterator, Optional

from nova_lite import exception
from nova_lite.image.api import ImageBackend

CHUNK = 1024 * 1024
DISK_FORMATS = ("raw", "qcow2", "aki", "ari", "ami", "iso")
CONTAINER_FORMATS = ("bare", "aki", "ari", "ami", "ovf")


class LocalImageStore(ImageBackend):
    def __init__(self, path: str) -> None:
        self.path = path

    def _meta_path(self, image_id: str) -> str:
        return os.path.join(self.path, f"{image_id}.json")

    def _data_path(self, image_id: str) -> str:
        return os.path.join(self.path, f"{image_id}.img")

    def list(self) -> list[dict]:
        if not os.path.isdir(self.path):
            return []
        images = []
        for name in sorted(os.listdir(self.path)):
            if name.endswith(".json"):
                try:
                    images.append(self.show(name[: -len(".json")]))
                except exception.ImageNotFound:
                    continue
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

    def import_file(
        self,
        src_path: str,
        name: str,
        disk_format: str = "raw",
        container_format: Optional[str] = None,
        properties: Optional[dict] = None,
    ) -> dict:
        """Copy src_path into the store and return the new image's metadata."""
        if disk_format not in DISK_FORMATS:
            raise exception.Invalid(f"disk_format must be one of {', '.join(DISK_FORMATS)}")
        if container_format is None:
            container_format = disk_format if disk_format in ("aki", "ari", "ami") else "bare"
        os.makedirs(self.path, exist_ok=True)
        image_id = str(uuid.uuid4())
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        tmp = self._data_path(image_id) + ".part"
        with open(src_path, "rb") as src, open(tmp, "wb") as dst:
            while chunk := src.read(CHUNK):
                md5.update(chunk)
                size += len(chunk)
                dst.write(chunk)
        os.replace(tmp, self._data_path(image_id))
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        meta = {
            "id": image_id,
            "name": name,
            "disk_format": disk_format,
            "container_format": container_format,
            "size": size,
            "checksum": md5.hexdigest(),
            "status": "active",
            "created_at": now,
            "updated_at": now,
            "min_disk": 0,
            "min_ram": 0,
            "properties": dict(properties or {}),
        }
        tmp_meta = self._meta_path(image_id) + ".part"
        with open(tmp_meta, "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
        os.replace(tmp_meta, self._meta_path(image_id))
        return meta

    def delete(self, image_id: str) -> None:
        self.show(image_id)
        for p in (self._meta_path(image_id), self._data_path(image_id)):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
