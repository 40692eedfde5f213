"""The image service seen by nova_lite: one interface, pluggable backends.

Only a local file store exists today; a Glance backend can be added behind the same
interface (``[image] backend``) without touching the API or compute code.
"""

from __future__ import annotations

from typing import Any, Iterator

from nova_lite import exception


class ImageBackend:
    """What every image backend offers."""

    def list(self) -> list[dict]:
        raise NotImplementedError

    def show(self, image_id: str) -> dict:
        """Metadata of one image; raises exception.ImageNotFound."""
        raise NotImplementedError

    def open(self, image_id: str) -> Iterator[bytes]:
        """Iterate over the image's bytes."""
        raise NotImplementedError

    def download(self, image_id: str, dest_path: str) -> None:
        """Write the image to dest_path, verifying size and checksum on the way."""
        import hashlib
        import os

        meta = self.show(image_id)
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


def get_image_api(conf: Any) -> ImageBackend:
    """The configured image backend."""
    from nova_lite.image import local

    backend = conf.image.backend
    if backend == "local":
        return local.LocalImageStore(conf.image.local_store_path)
    raise exception.ConfigError(reason=f"unknown [image] backend {backend!r}")
