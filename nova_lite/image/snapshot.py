"""What an image made from a server says about itself (snapshots, backups, shelved
servers): the boot image's properties it inherits, and where it came from.

As Nova does: the boot image's custom properties and min_ram, as recorded in the
server's system metadata at boot (nova_lite.image.properties), are inherited, so e.g. a
direct-kernel-boot image's kernel_id and ramdisk_id carry over and the snapshot boots the
same way; ``instance_uuid``, ``user_id``, ``image_type`` (snapshot or backup) and
``base_image_ref`` say where it came from; min_disk is at least the server's root disk.
Disk and container formats are left to the upload, which knows what the driver wrote.
"""

from __future__ import annotations

from typing import Any, Optional

from nova_lite.image import properties as image_properties

# Never inherited: they describe the base image's own storage or signature, or are set
# here for the new image.
NON_INHERITABLE = frozenset(("cache_in_nova", "bittorrent", "img_signature",
                             "img_signature_hash_method", "img_signature_key_type",
                             "img_signature_certificate_uuid", "os_glance_importing_to_stores",
                             "os_glance_failed_import", "instance_uuid", "image_type",
                             "backup_type", "base_image_ref", "user_id", "image_location",
                             "image_state", "owner_id", "owner_project_name",
                             "owner_user_name"))


def _boot_image(inst: Any, base_image: Optional[dict]) -> tuple[dict, int, int]:
    """(custom properties, min_ram, min_disk) of the image the server booted from: from
    its system metadata, else from ``base_image`` (servers recorded before that)."""
    sys_meta = inst.get("system_metadata") or {}
    prefix = image_properties.PREFIX
    if any(k.startswith(prefix) for k in sys_meta):
        return (image_properties.from_system_metadata(sys_meta),
                int(sys_meta.get(prefix + "min_ram") or 0),
                int(sys_meta.get(prefix + "min_disk") or 0))
    base = base_image or {}
    return (dict(base.get("properties") or {}), int(base.get("min_ram") or 0),
            int(base.get("min_disk") or 0))


def needs_base_image(inst: Any) -> bool:
    """Whether image_meta needs the boot image itself (nothing recorded at boot)."""
    return bool(inst.image_ref) and not any(
        k.startswith(image_properties.PREFIX) for k in (inst.get("system_metadata") or {}))


def image_meta(inst: Any, name: str, image_type: str, user_id: Optional[str],
               base_image: Optional[dict] = None, extra: Optional[dict] = None) -> dict:
    """The ``create`` meta of a new image of ``inst`` (see nova_lite.image.api)."""
    props, min_ram, min_disk = _boot_image(inst, base_image)
    props = {k: str(v) for k, v in props.items()
             if k not in NON_INHERITABLE and v is not None}
    props.update(instance_uuid=inst.uuid, image_type=image_type,
                 base_image_ref=inst.image_ref or "")
    if user_id:
        props["user_id"] = user_id
    props.update({k: str(v) for k, v in (extra or {}).items()})
    return {"name": name, "visibility": "private", "properties": props,
            "min_ram": min_ram, "min_disk": max(min_disk, int(inst.root_gb or 0))}
