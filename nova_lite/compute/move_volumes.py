"""The volumes of a server that moves between hosts (resize, cold migrate), as Nova's
compute hands them over with Cinder's attachments API.

A volume stays the server's all along: its root volume and its data volumes go with it
and nothing is copied. When the guest leaves a host, each attachment there is replaced
by a new one without a connector (created first, so the volume stays reserved for the
server, then the old one is deleted: Cinder unexports it from that host). The host the
guest is then defined on gives each attachment its connector (Cinder exports the
volume there and answers its connection_info), defines the guest with the disks and
completes the attachments. So a resize moves them at ``resize_instance`` (source) and
``finish_resize`` (destination), and a revert at ``revert_resize`` (destination) and
``finish_revert_resize`` (source); a confirm has nothing left to do. A shelve offload
leaves them and an unshelve takes them on the host it spawns on.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from nova_lite import exception

LOG = logging.getLogger(__name__)


def _device(bdm: Any) -> str:
    return (bdm.device_name or "").rpartition("/")[2]


class MoveVolumesMixin:
    """Mixed into ComputeManager (host, conductor, driver, and the volume mixins'
    volume_api and _volume_bdms)."""

    host: str
    conductor: Any
    driver: Any
    volume_api: Any

    def _leave_volumes(self, ctx: Any, inst: Any) -> None:
        """The guest is gone from this host: each volume keeps a reservation for the
        server (a new attachment without a connector) and this host's attachment goes."""
        for bdm in self._volume_bdms(ctx, inst):  # type: ignore[attr-defined]
            self._reserve_volume(ctx, inst, bdm)

    def _reserve_volume(self, ctx: Any, inst: Any, bdm: Any) -> None:
        """Replace the mapping's attachment by a reservation (created first, so the
        volume stays reserved for the server all along; Cinder then unexports it from
        this host). A mapping only reserved already is left as it is."""
        if not bdm.volume_id or not bdm.connection_info:
            return
        new = self.volume_api.attachment_create(ctx, bdm.volume_id, inst.uuid)
        old = bdm.attachment_id
        self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid, {
            "attachment_id": new["id"], "connection_info": None})
        if old:
            try:
                self.volume_api.attachment_delete(ctx, old)
            except exception.VolumeAttachmentNotFound:
                pass
        LOG.info("instance %s: volume %s released by %s (attachment %s reserves it)",
                 inst.uuid, bdm.volume_id, self.host, new["id"])

    def _leave_volumes_logged(self, ctx: Any, inst: Any) -> None:
        """_leave_volumes where a failure is already being handled: never raises."""
        try:
            self._leave_volumes(ctx, inst)
        except Exception:
            LOG.exception("instance %s: could not release its volumes on %s", inst.uuid,
                          self.host)

    def _volumes_here(self, ctx: Any, inst: Any, spec: Any) -> list[dict]:
        """Export to this host every volume whose attachment has no connection yet and
        put all of them in ``spec.extra["block_devices"]`` (what spawn takes); the
        devices, each with ``complete`` when its attachment is to be completed. The
        local disks (made afresh by a spawn, as in Nova) go to ``local_disks``."""
        everything = self.conductor.bdm_list_by_instance(ctx, inst.uuid).objects
        bdms = [b for b in everything if b.destination_type == "volume"]
        local = self._name_local_disks(  # type: ignore[attr-defined]
            ctx, inst, everything, {_device(b) for b in bdms})
        if local:
            spec.extra["local_disks"] = local
        if not bdms:
            return []
        connector = None
        devices = []
        for bdm in bdms:
            info = bdm.connection()
            fresh = not info
            if fresh:
                if connector is None:
                    connector = self.driver.get_volume_connector(spec)
                info = self._export(  # type: ignore[attr-defined]
                    ctx, bdm.attachment_id, bdm.volume_id, connector, bdm.device_name)
                self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid,
                                          {"connection_info": json.dumps(info)})
            devices.append({"connection_info": info, "device_name": _device(bdm),
                            "boot_index": bdm.boot_index, "serial": bdm.volume_id,
                            "disk_bus": bdm.disk_bus or "virtio",
                            "attachment_id": bdm.attachment_id, "complete": fresh})
        spec.extra["block_devices"] = devices
        return devices

    def _guest_image_meta(self, ctx: Any, inst: Any, devices: list[dict]) -> dict:
        """The image the guest is defined from: the server's, else (booted from a
        volume) the image its root volume was made from (kernel, ramdisk, bus...)."""
        if inst.image_ref:
            return self.image_api.show(None, inst.image_ref)  # type: ignore[attr-defined]
        if any(d.get("boot_index") == 0 for d in devices):
            return self._root_volume_image_meta(ctx, devices)  # type: ignore[attr-defined]
        return {}

    def _complete_moved_volumes(self, ctx: Any, devices: list[dict]) -> None:
        for dev in devices:
            if dev.get("complete"):
                self.volume_api.attachment_complete(ctx, dev["attachment_id"])

    def _volumes_of_guest(self, ctx: Any, inst: Any, spec: Any) -> None:
        """``spec.extra["block_devices"]`` from the mappings as they are (no Cinder call):
        what a driver needs to know of a guest it sets aside."""
        devices = [{"connection_info": b.connection() or {}, "device_name": _device(b),
                    "boot_index": b.boot_index, "serial": b.volume_id,
                    "disk_bus": b.disk_bus or "virtio"}
                   for b in self._volume_bdms(ctx, inst)]  # type: ignore[attr-defined]
        if devices:
            spec.extra["block_devices"] = devices

    # -- live migration: both hosts hold an attachment while the guest is copied ---------

    def _live_volumes_here(self, ctx: Any, inst: Any, spec: Any) -> list[dict]:
        """On the destination before the copy: a second attachment of each volume,
        exported here (Cinder allows one per host to a server on the move); the mappings
        name the new ones. What the source needs to finish or undo it."""
        moved: list[dict] = []
        connector = None
        try:
            for bdm in self._volume_bdms(ctx, inst):  # type: ignore[attr-defined]
                if not bdm.volume_id:
                    continue
                if connector is None:
                    connector = self.driver.get_volume_connector(spec)
                att = self.volume_api.attachment_create(ctx, bdm.volume_id, inst.uuid,
                                                        connector, bdm.device_name)
                moved.append({"bdm_uuid": bdm.uuid, "volume_id": bdm.volume_id,
                              "attachment_id": att["id"],
                              "old_attachment_id": bdm.attachment_id,
                              "old_connection_info": bdm.connection_info})
                info = self._mark_shared(  # type: ignore[attr-defined]
                    ctx, bdm.volume_id, att["connection_info"])
                self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid, {
                    "attachment_id": att["id"], "connection_info": json.dumps(info)})
        except Exception:
            self._live_volumes_undo(ctx, inst, moved)
            raise
        return moved

    def _live_volumes_undo(self, ctx: Any, inst: Any, moved: list[dict]) -> None:
        """The guest stays on the source: the mappings name its attachments again and
        the destination's go. Never raises."""
        for item in moved:
            try:
                self.conductor.bdm_update(ctx, inst.uuid, item["bdm_uuid"], {
                    "attachment_id": item["old_attachment_id"],
                    "connection_info": item["old_connection_info"]})
                self.volume_api.attachment_delete(ctx, item["attachment_id"])
            except exception.VolumeAttachmentNotFound:
                pass
            except Exception:
                LOG.exception("instance %s: could not undo the attachment %s of volume %s",
                              inst.uuid, item["attachment_id"], item["volume_id"])

    def _live_volumes_left(self, ctx: Any, inst: Any, moved: list[dict]) -> None:
        """On the source once the guest runs on the destination: its attachments go."""
        for item in moved:
            if item.get("old_attachment_id"):
                self._delete_attachment_id(  # type: ignore[attr-defined]
                    ctx, item["old_attachment_id"], item["volume_id"])

    def _live_volumes_complete(self, ctx: Any, inst: Any) -> None:
        """On the destination once it has the guest: its attachments are complete."""
        for bdm in self._volume_bdms(ctx, inst):  # type: ignore[attr-defined]
            if bdm.attachment_id:
                self.volume_api.attachment_complete(ctx, bdm.attachment_id)

    def _live_volumes_recover(self, ctx: Any, inst: Any) -> None:
        """A restart of the source ended a live migration after the destination made
        its attachments (the mappings name them, the guest is here): each mapping
        names the server's attached (source) attachment again and the other goes.
        Never raises."""
        for bdm in self._volume_bdms(ctx, inst):  # type: ignore[attr-defined]
            if not bdm.volume_id or not bdm.attachment_id:
                continue
            try:
                vol = self.volume_api.get(ctx, bdm.volume_id)
                attached = [a["attachment_id"] for a in vol.get("attachments") or []
                            if a.get("server_id") == inst.uuid]
                if not attached or bdm.attachment_id in attached:
                    continue
                source = self.volume_api.attachment_get(ctx, attached[0])
                self._live_volumes_undo(ctx, inst, [{
                    "bdm_uuid": bdm.uuid, "volume_id": bdm.volume_id,
                    "attachment_id": bdm.attachment_id, "old_attachment_id": attached[0],
                    "old_connection_info": json.dumps(source["connection_info"])}])
            except Exception:
                LOG.exception("instance %s: could not settle the attachments of volume "
                              "%s", inst.uuid, bdm.volume_id)
