"""A server create's block device mappings, as Nova reads and checks them.

``parse`` turns the body's ``block_device_mapping_v2`` (or the legacy
``block_device_mapping``) into mapping values (the fields of a BlockDeviceMapping) with
Nova's format rules; ``check`` applies Nova's rules on the whole set against the flavor
and the image, volume and snapshot services (boot sequence, sizes, local disk limits,
that each volume, snapshot or image exists and each volume can be attached).

What nova_lite's drivers build: the image root (no mapping row: the server's
image_ref says it), Cinder volumes (existing ones, or made by the compute host from an
image, a snapshot or nothing) and local ephemeral and swap disks (blank to local; the
flavor's ephemeral_gb and swap add one each unless the request has its own, as Nova;
an ephemeral disk's volume_size is in GB, a swap disk's in MB).
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any, Optional

from oslo_utils import strutils

from nova_lite import exception
from nova_lite.objects.block_device import BlockDeviceMapping
from nova_lite.volume import cinder

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3

# Nova's DiskBus values.
DISK_BUSES = ("fdc", "ide", "sata", "scsi", "usb", "virtio", "xen", "lxc", "uml")
ROOT_DEVICE_NAME = "vda"
_EPHEMERAL = re.compile(r"^ephemeral(\d|[1-9]\d+)$")


def invalid(details: str) -> exception.InvalidBDM:
    """Nova's InvalidBDMFormat: "Block Device Mapping is Invalid: <details>"."""
    return exception.InvalidBDM(details=details)


def strip_dev(name: Optional[str]) -> Optional[str]:
    return name[5:] if name and name.startswith("/dev/") else name


def _int(value: Any) -> Optional[int]:
    return None if value is None or value == "" else int(value)


def _common(bdm: dict) -> dict:
    """Nova's checks every mapping passes (its BlockDeviceDict._validate)."""
    if "delete_on_termination" in bdm:
        bdm["delete_on_termination"] = strutils.bool_from_string(
            bdm["delete_on_termination"])
    name = bdm.get("device_name")
    if name is not None:
        if not 1 <= len(name) <= 255:
            raise invalid("Device name empty or too long.")
        if " " in name:
            raise invalid("Device name contains spaces.")
    if bdm.get("volume_size"):
        bdm["volume_size"] = int(bdm["volume_size"])
    if bdm.get("boot_index") is not None and bdm.get("boot_index") != "":
        try:
            bdm["boot_index"] = int(bdm["boot_index"])
        except (TypeError, ValueError):
            raise invalid("Boot index is invalid.") from None
    else:
        bdm["boot_index"] = None
    return bdm


def from_api(item: dict, image_uuid_specified: bool) -> Optional[dict]:
    """One ``block_device_mapping_v2`` item as mapping values (None: a no_device
    entry, which only hides an image-defined device)."""
    bdm = dict(item)
    if bdm.get("no_device"):
        return None
    source = bdm.get("source_type")
    dest = bdm.get("destination_type")
    device_uuid = bdm.pop("uuid", None)
    if source is None:
        raise invalid("Some required fields are missing")
    if source == "blank" and device_uuid:
        raise invalid("Invalid device UUID.")
    if source != "blank":
        if not device_uuid:
            raise invalid("Missing device UUID.")
        bdm[f"{source}_id"] = device_uuid
    if source == "image" and dest == "local":
        boot_index = bdm.get("boot_index", -1)
        if not (image_uuid_specified and int(-1 if boot_index is None else boot_index) == 0):
            raise invalid("Mapping image to local is not supported.")
    if dest == "local" and bdm.get("volume_type"):
        raise invalid("Specifying a volume_type with destination_type=local is not "
                      "supported.")
    if source == "volume" and bdm.get("volume_type"):
        raise invalid("Specifying volume type to existing volume is not supported.")
    bdm.pop("virtual_name", None)
    bdm.pop("connection_info", None)
    bdm.setdefault("destination_type", "local" if source == "blank" else "volume")
    return _common(bdm)


def from_legacy(item: dict) -> Optional[dict]:
    """One legacy ``block_device_mapping`` item as mapping values."""
    bdm = {k: v for k, v in item.items()
           if k in ("device_name", "delete_on_termination", "snapshot_id", "volume_id",
                    "volume_size")}
    virtual = item.get("virtual_name")
    if virtual and (virtual == "swap" or _EPHEMERAL.match(virtual)):
        bdm.update(source_type="blank", destination_type="local",
                   delete_on_termination=True)
        bdm["guest_format"] = "swap" if virtual == "swap" else None
    elif item.get("snapshot_id"):
        bdm.update(source_type="snapshot", destination_type="volume")
    elif item.get("volume_id"):
        bdm.update(source_type="volume", destination_type="volume")
    elif item.get("no_device"):
        return None
    else:
        raise invalid("Unrecognized legacy format.")
    return _common(bdm)


def parse(server: dict) -> list[dict]:
    """The mappings a create body asks for ([] when it asks for none), with the boot
    index each gets; InvalidBDM (400) with Nova's messages."""
    legacy = server.get("block_device_mapping") or []
    v2 = server.get("block_device_mapping_v2") or []
    if legacy and v2:
        raise exception.Invalid(message="Using different block_device_mapping syntaxes "
                                        "is not allowed in the same request.")
    if v2:
        specified = server.get("imageRef") is not None
        return [b for b in (from_api(i, specified) for i in v2) if b is not None]
    bdms = [b for b in (from_legacy(i) for i in legacy) if b is not None]
    if server.get("imageRef"):
        for bdm in bdms:  # the one named as the root device replaces the image
            bdm["boot_index"] = (0 if bdm["source_type"] != "blank" and strip_dev(
                bdm.get("device_name")) == ROOT_DEVICE_NAME else -1)
    else:
        for n, bdm in enumerate(b for b in bdms if b["source_type"] != "blank"):
            bdm["boot_index"] = 0 if n == 0 else -1
    return bdms


def root_of(bdms: list[dict]) -> Optional[dict]:
    return next((b for b in bdms if b.get("boot_index") == 0), None)


def volume_backed(bdms: list[dict]) -> bool:
    root = root_of(bdms)
    return root is not None and root.get("destination_type") == "volume"


def is_swap(bdm: dict) -> bool:
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") == "swap")


def is_ephemeral(bdm: dict) -> bool:
    return (bdm.get("source_type") == "blank" and bdm.get("destination_type") == "local"
            and bdm.get("guest_format") != "swap")


def check_boot_sequence(bdms: list[dict]) -> None:
    """Boot indexes 0, 1, 2, ... without gaps, and at least one bootable device."""
    indexes = sorted(b["boot_index"] for b in bdms
                     if b.get("boot_index") is not None and b["boot_index"] >= 0)
    if not indexes or any(i != v for i, v in enumerate(indexes)):
        raise invalid("Boot sequence for the instance and image/block device mapping "
                      "combination is not valid.")


def check_local_disks(bdms: list[dict], flavor: Any, max_local: int) -> None:
    """Ephemeral and swap sizes within the flavor's, one swap, the local disk limit."""
    ephemeral = sum(b.get("volume_size") or flavor.ephemeral_gb
                    for b in bdms if is_ephemeral(b))
    if ephemeral > flavor.ephemeral_gb:
        raise exception.InvalidBDM(
            message="Ephemeral disks requested are larger than the instance type allows. "
                    "If no size is given in one block device mapping, flavor ephemeral "
                    "size will be used.")
    swaps = [b for b in bdms if is_swap(b)]
    if len(swaps) > 1:
        raise invalid("More than one swap drive requested.")
    if swaps and (swaps[0].get("volume_size") or 0) > flavor.swap:
        raise exception.InvalidBDM(
            message="Swap drive requested is larger than instance type allows.")
    if max_local >= 0 and sum(b.get("destination_type") == "local"
                              for b in bdms) > max_local:
        raise invalid("You specified more local devices than the limit allows")


def check_sources(ctx: Any, bdms: list[dict], images: Any, volumes: Any,
                  image_ref: Optional[str], zone: Optional[str]) -> dict:
    """Each image, volume and snapshot a mapping names exists and each volume can be
    attached (in ``zone`` when [cinder] cross_az_attach is off); sizes taken from
    volumes and snapshots. Returns {volume id: volume}."""
    seen_images = {image_ref} if image_ref else set()
    found: dict[str, dict] = {}
    check_volume_types(ctx, bdms, volumes)
    for bdm in bdms:
        if bdm.get("disk_bus") and bdm["disk_bus"] not in DISK_BUSES:
            raise exception.InvalidBDM(
                message=f"Block Device Mapping is Invalid: The provided disk bus "
                        f"{bdm['disk_bus']} is not valid.")
        if bdm.get("image_id"):
            if bdm["image_id"] not in seen_images:
                try:
                    images.show(ctx, bdm["image_id"])
                except Exception:
                    raise invalid(f"failed to get image {bdm['image_id']}.") from None
                seen_images.add(bdm["image_id"])
            if bdm["source_type"] == "image" and bdm["destination_type"] == "volume" \
                    and not bdm.get("volume_size"):
                raise exception.InvalidBDM(
                    message="Images with destination_type 'volume' need to have a "
                            "non-zero size specified")
        elif bdm.get("volume_id"):
            vol = _volume(ctx, volumes, bdm)
            volumes.check_availability_zone(vol, zone)
            bdm["volume_size"] = vol.get("size")
            found[bdm["volume_id"]] = vol
        elif bdm.get("snapshot_id"):
            try:
                snap = _need_volumes(volumes).get_snapshot(ctx, bdm["snapshot_id"])
            except exception.VolumesUnavailable:
                raise
            except Exception:
                raise invalid(f"failed to get snapshot {bdm['snapshot_id']}.") from None
            bdm["volume_size"] = bdm.get("volume_size") or snap.get("size")
        elif bdm["source_type"] == "blank" and bdm["destination_type"] == "volume" \
                and not bdm.get("volume_size"):
            raise exception.InvalidBDM(
                message="Blank volumes (source: 'blank', dest: 'volume') need to have "
                        "non-zero size")
    return found


def check_volume_types(ctx: Any, bdms: list[dict], volumes: Any) -> None:
    """Each volume_type asked for (2.67) is one of Cinder's, by id or name (Nova's
    VolumeTypeNotFound, a 400, otherwise); Cinder is asked once per request."""
    wanted = [b["volume_type"] for b in bdms if b.get("volume_type")]
    if not wanted:
        return
    known = set()
    for vtype in _need_volumes(volumes).get_all_volume_types(ctx):
        known.update((vtype.get("id"), vtype.get("name")))
    for name in wanted:
        if name not in known:
            raise exception.VolumeTypeNotFound(id_or_name=name)


def _need_volumes(volumes: Any) -> Any:
    if volumes is None:
        raise exception.VolumesUnavailable()
    return volumes


def _volume(ctx: Any, volumes: Any, bdm: dict) -> dict:
    api = _need_volumes(volumes)
    try:
        vol = api.get(ctx, bdm["volume_id"])
    except (exception.CinderConnectionFailed, exception.VolumesUnavailable):
        raise
    except Exception:
        raise invalid(f"failed to get volume {bdm['volume_id']}.") from None
    cinder.check_attach(vol)
    return vol


def check_supported(bdms: list[dict]) -> None:
    """Local disks made from a volume or a snapshot: Nova's 400."""
    for bdm in bdms:
        source, dest = bdm.get("source_type"), bdm.get("destination_type")
        if dest == "local" and source in ("volume", "snapshot"):
            raise invalid(f"Mapping {source} to local is not supported.")


def flavor_defined(flavor: Any, bdms: list[dict]) -> list[dict]:
    """The local disks the flavor gives a server whose request has none of that kind
    (Nova's): an ephemeral disk of ephemeral_gb GB, a swap disk of swap MB."""
    out = []
    if flavor.ephemeral_gb and not any(is_ephemeral(b) for b in bdms):
        out.append(_blank_local(flavor.ephemeral_gb, None))
    if flavor.swap and not any(is_swap(b) for b in bdms):
        out.append(_blank_local(flavor.swap, "swap"))
    return out


def _blank_local(size: int, guest_format: Optional[str]) -> dict:
    return {"source_type": "blank", "destination_type": "local", "boot_index": -1,
            "delete_on_termination": True, "volume_size": size,
            "guest_format": guest_format}


def size_local_disks(bdms: list[dict], flavor: Any) -> None:
    """An ephemeral or swap mapping without a size gets the flavor's; a local disk that
    would then have none is refused."""
    for bdm in bdms:
        if is_ephemeral(bdm) or is_swap(bdm):
            bdm["volume_size"] = bdm.get("volume_size") or (
                flavor.swap if is_swap(bdm) else flavor.ephemeral_gb)
            if not bdm["volume_size"]:
                raise invalid("A local disk (source_type blank, destination_type local) "
                              "needs a volume_size when the flavor gives it none.")


def root_image_id(bdms: list[dict]) -> Optional[str]:
    """The image the root disk is made from (image source), if any."""
    root = root_of(bdms)
    return root.get("image_id") if root and root.get("source_type") == "image" else None


def check_all(req: Any, bdms: list[dict], image: dict, flavor: Any,
                 az: Optional[str], max_count: int) -> list[dict]:
    """Nova's checks of the whole set of mappings; the mappings to record (without the
    image root, which the server's image_ref describes)."""
    if not bdms and not (flavor.ephemeral_gb or flavor.swap):
        return []
    bdms = [*bdms, *flavor_defined(flavor, bdms)]  # counted as local devices, as Nova
    if req.volumes is None and any(b["destination_type"] == "volume" for b in bdms):
        raise exception.VolumesUnavailable()
    if max_count > 1 and any(b["source_type"] == "volume" for b in bdms):
        raise exception.Invalid(
            message="Cannot attach one or more volumes to multiple instances")
    found = check_sources(req.ctx, bdms, req.images, req.volumes,
                          image.get("id") or None, az)
    for vol in found.values():
        cinder.check_multiattach(vol, req.ver >= (2, 60))
    root = root_of(bdms)
    image_backed = root is None or root["destination_type"] == "local"
    everything = bdms if root is not None else [
        {"source_type": "image", "destination_type": "local", "boot_index": 0}, *bdms]
    check_boot_sequence(everything)
    check_local_disks(everything, flavor,
                                           req.conf.max_local_block_devices)
    if not image_backed and root.get("volume_size"):
        check_volume_min_disk(image, int(root["volume_size"]))
    rows = [b for b in bdms if b is not root or not image_backed]
    check_supported(rows)
    size_local_disks(rows, flavor)
    return rows


def objects(bdms: list[dict], instance_uuid: str) -> list:
    return [BlockDeviceMapping.from_dict(dict(
        b, uuid=str(uuid.uuid4()), instance_uuid=instance_uuid,
        delete_on_termination=bool(b.get("delete_on_termination", False))))
        for b in bdms]


def reserve(req: Any, bdms: list) -> list:
    """Reserve each existing volume for the server (a Cinder attachment without a
    connector, as Nova's API does); the mappings reserved."""
    done = []
    try:
        for bdm in bdms:
            if bdm.source_type == "volume":
                att = req.volumes.attachment_create(req.ctx, bdm.volume_id,
                                                    bdm.instance_uuid)
                bdm.attachment_id = att["id"]
                done.append(bdm)
    except Exception:
        unreserve(req, done)
        raise
    return done


def unreserve(req: Any, bdms: list) -> None:
    for bdm in bdms:
        try:
            req.volumes.attachment_delete(req.ctx, bdm.attachment_id)
        except Exception:
            LOG.exception("could not release volume %s", bdm.volume_id)


def check_volume_min_disk(image: dict, volume_gb: int) -> None:
    """Nova's 400 when a root volume of ``volume_gb`` is smaller than the image's
    min_disk (at boot, and when a rebuild re-images the volume)."""
    min_disk = int(image.get("min_disk") or 0) * GiB
    size = volume_gb * GiB
    if min_disk > size:
        raise exception.Invalid(message=(
            "Volume is smaller than the minimum size specified in image metadata. "
            f"Volume size is {size} bytes, minimum size is {min_disk} bytes."))
