"""createImage of a volume-backed server, as Nova's API does it (no compute host takes
part): a Cinder snapshot of each of its volumes (forced, they are in use) and an image
without data whose properties map the server's disks to those snapshots.

The image carries ``bdm_v2`` ("True"), ``block_device_mapping`` (a JSON list of
mappings: each volume now a ``snapshot`` source with a ``volume`` destination, its size,
boot index, device name and delete_on_termination kept) and ``root_device_name``;
booting from it (``image_mappings``) makes new volumes from the snapshots. Its size is 0
and it is active at once. A failure deletes the snapshots already taken.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Optional

from oslo_utils import strutils

from nova_lite import exception

LOG = logging.getLogger(__name__)

ROOT_DEVICE_NAME = "/dev/vda"
# Fields of a mapping an image keeps (Nova's image mapping: no ids of this server,
# its volume, its attachment or its connection).
IMAGE_MAPPING_FIELDS = ("source_type", "destination_type", "snapshot_id", "image_id",
                        "volume_id", "volume_size", "boot_index", "device_name",
                        "delete_on_termination", "guest_format", "device_type",
                        "disk_bus", "no_device", "tag", "volume_type")
# Properties a new image never inherits from the boot image: this one sets them.
_OWN = ("block_device_mapping", "bdm_v2", "root_device_name")


def image_mapping(bdm: Any, snapshot_id: Optional[str] = None) -> dict:
    """One mapping as an image records it; a volume becomes ``snapshot_id``."""
    out = {k: bdm.get(k) for k in IMAGE_MAPPING_FIELDS}
    out["delete_on_termination"] = bool(out["delete_on_termination"])
    out["no_device"] = bool(out["no_device"])
    if snapshot_id is not None:
        out.update(source_type="snapshot", destination_type="volume",
                   snapshot_id=snapshot_id, volume_id=None, image_id=None)
    return out


def snapshot_volumes(ctx: Any, volumes: Any, bdms: list, image_name: str) -> list[dict]:
    """Snapshot every volume mapping; the image mappings of all of them (snapshots taken
    before a failure are deleted again)."""
    taken: list[str] = []
    mappings = []
    try:
        for bdm in bdms:
            if bdm.get("no_device"):
                continue
            if bdm.get("destination_type") != "volume":
                mappings.append(image_mapping(bdm))
                continue
            vol = volumes.get(ctx, bdm.volume_id)
            snap = volumes.create_snapshot_force(
                ctx, bdm.volume_id, f"snapshot for {image_name}",
                vol.get("description") or vol.get("display_description"))
            taken.append(snap["id"])
            mappings.append(image_mapping(bdm, snap["id"]))
    except Exception:
        for snapshot_id in taken:
            try:
                volumes.delete_snapshot(ctx, snapshot_id)
            except Exception:
                LOG.exception("could not delete snapshot %s", snapshot_id)
        raise
    return mappings


def image_meta(base_meta: dict, mappings: list[dict]) -> dict:
    """The image a volume-backed snapshot records: the server's own snapshot metadata
    (nova_lite.image.snapshot) plus the mappings, without data or formats of its own."""
    meta = dict(base_meta)
    props = {k: v for k, v in (meta.get("properties") or {}).items() if k not in _OWN}
    props["root_device_name"] = ROOT_DEVICE_NAME
    if mappings:
        props["bdm_v2"] = "True"
        props["block_device_mapping"] = json.dumps(mappings)
    meta["properties"] = props
    root = next((m for m in mappings if m.get("boot_index") == 0), None)
    if root is not None and root.get("volume_size"):
        meta["min_disk"] = int(root["volume_size"])  # the root volume, not the flavor
    # Glance asks for formats before data and checks the data matches them: no data
    # is an empty raw disk.
    meta.setdefault("disk_format", "raw")
    meta.setdefault("container_format", "bare")
    return meta


def create(ctx: Any, images: Any, volumes: Any, bdms: list, base_meta: dict) -> dict:
    """Snapshot the volumes, then record the active, empty image that maps them."""
    if volumes is None:
        raise exception.VolumesUnavailable()
    mappings = snapshot_volumes(ctx, volumes, bdms, base_meta["name"])
    image = images.create(ctx, image_meta(base_meta, mappings))
    try:
        return images.upload(ctx, image["id"], [b""])
    except Exception:
        try:
            images.delete(ctx, image["id"])
        except Exception:
            LOG.exception("could not delete image %s", image["id"])
        raise


# -- booting from such an image ---------------------------------------------------------

def image_mappings(image: dict) -> list[dict]:
    """The mappings an image defines (``bdm_v2`` images), as create-request mappings;
    [] for an ordinary image."""
    props = image.get("properties") or {}
    if not strutils.bool_from_string(props.get("bdm_v2", False)):
        return []
    raw = props.get("block_device_mapping") or "[]"
    try:
        found = json.loads(raw) if isinstance(raw, str) else list(raw)
    except ValueError:
        raise exception.Invalid(
            message=f"Image {image.get('id')} has an invalid block_device_mapping.") \
            from None
    out = []
    for item in found:
        if not isinstance(item, dict) or item.get("no_device"):
            continue
        bdm = {k: item.get(k) for k in IMAGE_MAPPING_FIELDS
               if item.get(k) is not None and k != "no_device"}
        bdm.setdefault("boot_index", None)
        out.append(bdm)
    return out


def merge(image_defined: list[dict], requested: list[dict]) -> list[dict]:
    """Nova's merge: a requested mapping with an image mapping's device name replaces
    it; when the image has a root, a requested image root (boot_index 0) goes."""
    if not image_defined:
        return requested
    has_root = any(b.get("boot_index") == 0 for b in image_defined)
    if has_root:
        requested = [b for b in requested if not (
            b.get("boot_index") == 0 and b.get("source_type") == "image")]
    names = {_name(b.get("device_name")) for b in requested if b.get("device_name")}
    kept = [b for b in image_defined if _name(b.get("device_name")) not in names]
    return kept + requested


def _name(device: Optional[str]) -> Optional[str]:
    return device[5:] if device and device.startswith("/dev/") else device
