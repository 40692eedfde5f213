"""An image's properties as recorded in an instance's system metadata at boot.

Nova keeps what it needs of the boot image under ``image_<key>`` in the instance's
system metadata, so a server's view (the 2.98 ``image.properties``), rebuilds and
snapshots do not depend on the image still existing or staying unchanged in Glance.
"""

from __future__ import annotations

import re
from typing import Any, Optional

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


# Image properties that shape the guest, with the values nova_lite's drivers accept.
DISK_BUSES = ("virtio", "scsi", "sata", "ide", "usb")
VIF_MODELS = ("virtio", "e1000", "e1000e", "rtl8139", "ne2k_pci", "pcnet")
_MACHINE_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def invalid_property(props: dict) -> Optional[str]:
    """Why the image's guest-shaping properties cannot be honoured, or None."""
    checks = (("hw_disk_bus", lambda v: v in DISK_BUSES),
              ("hw_vif_model", lambda v: v in VIF_MODELS),
              ("hw_machine_type", lambda v: bool(_MACHINE_TYPE.match(v))))
    for key, ok in checks:
        value = props.get(key)
        if value is not None and not ok(str(value)):
            return f"Image property '{key}' has an invalid value '{value}'."
    return None

