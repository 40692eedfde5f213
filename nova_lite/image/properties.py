"""An image's properties as recorded in an instance's system metadata at boot.

Nova keeps what it needs of the boot image under ``image_<key>`` in the instance's
system metadata, so a server's view (the 2.98 ``image.properties``), rebuilds and
snapshots do not depend on the image still existing or staying unchanged in Glance.
"""

from __future__ import annotations

from typing import Any

PREFIX = "image_"
# Base attributes recorded beside the custom properties (Nova's inheritable keys).
INHERITED = ("min_ram", "min_disk", "disk_format", "container_format")
BASE_IMAGE_REF = "base_image_ref"
MAX_VALUE = 255


def system_metadata(image: dict) -> dict[str, str]:
    """``image_<key>`` entries for an image dict of nova_lite.image.api."""
    out: dict[str, str] = {PREFIX + BASE_IMAGE_REF: str(image["id"])}
    for key in INHERITED:
        if image.get(key) is not None:
            out[PREFIX + key] = str(image[key])
    for key, value in (image.get("properties") or {}).items():
        if value is not None:
            out[PREFIX + key] = str(value)[:MAX_VALUE]
    return out


def from_system_metadata(sys_meta: Any) -> dict[str, str]:
    """The image's custom properties (what 2.98 shows), without the base attributes."""
    skip = {PREFIX + k for k in (*INHERITED, BASE_IMAGE_REF)}
    return {k[len(PREFIX):]: v for k, v in (sys_meta or {}).items()
            if k.startswith(PREFIX) and k not in skip}
