"""The volumes of a server being built or deleted on this host, as Nova's compute does.

Before the guest is spawned, each volume mapping gets its volume: one nova makes from
an image, a snapshot or nothing (waited for with ``[DEFAULT]
block_device_allocate_retries``), or the existing volume the API reserved. Each is
exported to this host (attachment update with the host's connector) and its
connection_info recorded; the guest is defined with them (the root disk of a
volume-backed server is the volume), then the attachments are completed (in-use).

A failed build and a delete undo it: every attachment is deleted, and the volumes with
delete_on_termination too (on a failed build only those nova made, as Nova).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Optional

from nova_lite import exception, volume
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)

# Device names of volumes attached at build: vda is the root disk, vdb the config drive.
_DATA_DEVICES = [f"vd{c}" for c in "cdefghijklmnopqrstuvwxyz"]


class VolumeNotCreated(exception.NovaLiteException):
    msg_fmt = ("%(kind)s %(volume_id)s did not finish being created even after we waited "
               "%(seconds)s seconds or %(attempts)s attempts. And its status is "
               "%(volume_status)s.")


# Nova's filesystem for an ephemeral disk by the image's os_type, and for any other.
_FS_BY_OS_TYPE = {"linux": "ext4", "windows": "ntfs"}
_DEFAULT_FS = "vfat"


def ephemeral_format(guest_format: Optional[str], os_type: Optional[str]) -> str:
    """The filesystem an ephemeral disk is made with, as Nova: its own guest_format,
    else [DEFAULT] default_ephemeral_format, else the default for the OS type (a guest
    finds every ephemeral disk formatted, with the label ephemeral<N>)."""
    return (guest_format or CONF.default_ephemeral_format
            or _FS_BY_OS_TYPE.get(os_type or "", _DEFAULT_FS))


def _device(bdm: Any, used: set[str]) -> str:
    if bdm.boot_index == 0:
        return "vda"
    wanted = (bdm.device_name or "").rpartition("/")[2]
    if wanted in _DATA_DEVICES and wanted not in used:
        return wanted
    return next(d for d in _DATA_DEVICES if d not in used)


class BootVolumesMixin:
    """Mixed into ComputeManager (host, conductor, driver, image_api, and VolumesMixin's
    volume_api: the Cinder client, VolumesUnavailable without one)."""

    host: str
    conductor: Any
    driver: Any
    image_api: Any
    volume_api: Any

    def _volume_bdms(self, ctx: Any, inst: Any) -> list:
        return [b for b in self.conductor.bdm_list_by_instance(ctx, inst.uuid).objects
                if b.destination_type == "volume"]

    def _prep_block_devices(self, ctx: Any, inst: Any, spec: Any,
                            requested: Optional[list] = None) -> list[dict]:
        """Make, wait for and export the server's volumes; what the driver needs of
        each: connection_info, device_name, boot_index, serial, disk_bus. The local
        disks (ephemeral, swap) are named first and go to ``spec.extra["local_disks"]``.
        ``requested``: the mappings the build came with; the conductor is asked for the
        recorded ones only when there are some (None: always)."""
        if requested is not None and not requested:
            return []
        everything = self.conductor.bdm_list_by_instance(ctx, inst.uuid).objects
        used: set[str] = set()
        local = self._name_local_disks(ctx, inst, everything, used)
        if local:
            spec.extra["local_disks"] = local
        bdms = [b for b in everything if b.destination_type == "volume"]
        if not bdms:
            return []
        api = self.volume_api
        connector = self.driver.get_volume_connector(spec)
        out = []
        for bdm in bdms:
            if not bdm.volume_id:
                bdm = self._create_volume(ctx, inst, bdm)
            if not bdm.attachment_id:
                att = api.attachment_create(ctx, bdm.volume_id, inst.uuid)
                bdm = self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid,
                                                {"attachment_id": att["id"]})
            device = _device(bdm, used)
            used.add(device)
            info = self._export(  # type: ignore[attr-defined]
                ctx, bdm.attachment_id, bdm.volume_id, connector, f"/dev/{device}")
            self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid, {
                "connection_info": json.dumps(info), "device_name": f"/dev/{device}"})
            out.append({"connection_info": info, "device_name": device,
                        "boot_index": bdm.boot_index, "serial": bdm.volume_id,
                        "disk_bus": bdm.disk_bus or "virtio",
                        "attachment_id": bdm.attachment_id, "image_id": bdm.image_id})
        return out

    def _name_local_disks(self, ctx: Any, inst: Any, bdms: list, used: set[str]
                          ) -> list[dict]:
        """Each blank local mapping's device (recorded) and what the driver needs to
        make it: device_name, size_mb, guest_format (an ephemeral disk's filesystem,
        always set), label, swap, disk_bus, and the file name Nova gives it (disk.eph<N>,
        disk.swap)."""
        os_type = (inst.get("system_metadata") or {}).get("image_os_type")
        out = []
        for bdm in bdms:
            if (bdm.source_type, bdm.destination_type) != ("blank", "local"):
                continue
            swap = bdm.guest_format == "swap"
            device = _device(bdm, used)
            used.add(device)
            if bdm.device_name != f"/dev/{device}":
                self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid,
                                          {"device_name": f"/dev/{device}"})
            ephemerals = sum(1 for d in out if not d["swap"])
            out.append({"device_name": device, "disk_bus": bdm.disk_bus or "virtio",
                        "guest_format": None if swap else ephemeral_format(
                            bdm.guest_format, os_type),
                        "label": None if swap else f"ephemeral{ephemerals}", "swap": swap,
                        "size_mb": (bdm.volume_size or 0) * (1 if swap else 1024),
                        "file": "disk.swap" if swap else f"disk.eph{ephemerals}"})
        return out

    def _root_volume_image_meta(self, ctx: Any, devices: list[dict]) -> dict:
        """The image a root volume was made from, as the driver reads an image (its
        properties: kernel, ramdisk, disk bus...): the image itself when it still
        exists, else the image metadata Cinder copied onto the volume."""
        root = next((d for d in devices if d.get("boot_index") == 0), None)
        if root is None:
            return {}
        if root.get("image_id"):
            try:
                return self.image_api.show(None, root["image_id"])
            except exception.NovaLiteException:
                LOG.info("image %s of a root volume is gone; using the volume's copy of "
                         "its metadata", root["image_id"])
        meta = dict(self.volume_api.get(ctx, root["serial"]).get("volume_image_metadata")
                    or {})
        base = {k: meta.pop(k) for k in ("disk_format", "container_format", "min_ram",
                                         "min_disk") if k in meta}
        for key in ("image_id", "image_name", "checksum", "size"):
            meta.pop(key, None)
        return dict(base, properties=meta)

    def _create_volume(self, ctx: Any, inst: Any, bdm: Any) -> Any:
        """The volume a mapping asks nova to make, recorded at once (so a failure
        cleans it up), then waited for."""
        name = f"{inst.uuid}-blank-vol" if bdm.source_type == "blank" else ""
        if bdm.snapshot_id:  # a snapshot just taken (createImage) may still be creating
            self._await_status(ctx, self.volume_api.get_snapshot, bdm.snapshot_id,
                               "snapshot")
        vol = self.volume_api.create(
            ctx, bdm.volume_size, name, "", image_id=bdm.image_id,
            snapshot_id=bdm.snapshot_id, volume_type=bdm.volume_type,
            availability_zone=inst.get("availability_zone"))
        bdm = self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid, {"volume_id": vol["id"]})
        self._await_volume(ctx, vol["id"])
        return bdm

    def _await_volume(self, ctx: Any, volume_id: str) -> None:
        self._await_status(ctx, self.volume_api.get, volume_id, "volume")

    def _await_status(self, ctx: Any, get: Any, volume_id: str, kind: str) -> None:
        """Poll until the volume (or snapshot) is available: [DEFAULT]
        block_device_allocate_retries more times, block_device_allocate_retries_interval
        apart; an ``error`` one fails at once."""
        attempts = CONF.block_device_allocate_retries + 1
        interval = CONF.block_device_allocate_retries_interval
        started = time.monotonic()
        status = None
        for attempt in range(attempts):
            status = get(ctx, volume_id).get("status")
            if status == "available":
                return
            if status == "error":
                break
            if attempt + 1 < attempts:
                time.sleep(interval)
        raise VolumeNotCreated(kind=kind.capitalize(), volume_id=volume_id,
                               volume_status=status,
                               seconds=int(time.monotonic() - started), attempts=attempts)

    def _complete_attachments(self, ctx: Any, devices: list[dict]) -> None:
        for dev in devices:
            self.volume_api.attachment_complete(ctx, dev["attachment_id"])

    def _release_volumes(self, ctx: Any, inst: Any, failed_build: bool) -> None:
        """Delete every attachment of the server, then the volumes to delete with it
        (after a failed build, only those nova made). Never raises: a volume that
        cannot be released is logged and left to the operator, as in Nova."""
        try:
            bdms = self._volume_bdms(ctx, inst)
            if bdms:
                release_volumes(ctx, self.volume_api, bdms, failed_build)
        except Exception:
            LOG.exception("instance %s: could not release its volumes", inst.uuid)


def release_volumes(ctx: Any, api: Any, bdms: list, failed_build: bool = False) -> None:
    """Delete the mappings' attachments, then their delete_on_termination volumes (on
    a failed build only those nova made from an image, a snapshot or nothing)."""
    for bdm in bdms:
        if bdm.attachment_id:
            volume.release_attachment(api, ctx, bdm.attachment_id, f"volume {bdm.volume_id}")
        made_here = bdm.source_type != "volume"
        if bdm.volume_id and bdm.delete_on_termination and (made_here or not failed_build):
            try:
                api.delete(ctx, bdm.volume_id)
            except exception.VolumeNotFound:
                pass
            except Exception:
                LOG.exception("could not delete volume %s", bdm.volume_id)
