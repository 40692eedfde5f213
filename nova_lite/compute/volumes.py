"""The compute host's side of volume attach and detach, as Nova's attachments flow.

The API has reserved the volume (a Cinder attachment without a connector) and the
conductor has recorded the mapping (BDM, with its attachment id). Here the host gives
Cinder its connector (attachment_update: Cinder exports the volume and answers its
connection_info), saves the connection_info in the mapping, plugs the disk into the
guest and completes the attachment (the volume becomes in-use). Any failure undoes what
was done, so no attachment stays reserved: the disk is unplugged and the attachment
deleted (the conductor then removes the mapping). Detach is the reverse: unplug, delete
the attachment, remove the mapping.

A restart finds the attaches it interrupted: a mapping of a server on this host whose
attachment Cinder does not have as attached is unplugged, deleted and removed.
"""

from __future__ import annotations

import contextlib
import json
import logging
from typing import Any, Optional

from nova_lite import exception, volume
from nova_lite.conf import CONF

LOG = logging.getLogger(__name__)

ATTACHED = "attached"
GiB = 1024 ** 3


class VolumesMixin:
    """Mixed into ComputeManager (which provides host, conductor, driver, _lock)."""

    host: str
    conductor: Any
    driver: Any
    _volume_api: Any = None

    @property
    def volume_api(self) -> Any:
        if self._volume_api is None:
            api = volume.get_api(CONF)
            if api is None:
                raise exception.VolumesUnavailable()
            self._volume_api = api
        return self._volume_api

    def attach_volume(self, ctx: Any, instance: Any, bdm: Any) -> Any:
        """RPC call: connect the mapping's volume to the guest; the mapping after."""
        event = "compute_attach_volume"
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
            try:
                inst = self.conductor.server_get(ctx, instance.uuid)
                bdm = self._attach_volume(ctx, inst, bdm)
            except Exception as err:
                self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                            "Error", str(err))
                raise
            self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                        "Success")
            return bdm

    def _attach_volume(self, ctx: Any, inst: Any, bdm: Any) -> Any:
        from nova_lite.compute.manager import instance_spec

        api, spec = self.volume_api, instance_spec(inst)
        plugged = None
        try:
            connector = self.driver.get_volume_connector(spec)
            info = self._export(ctx, bdm.attachment_id, bdm.volume_id, connector,
                                bdm.device_name)
            bdm = self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid,
                                            {"connection_info": json.dumps(info)})
            plugged = self.driver.attach_volume(spec, info, bdm.device_name, bdm.volume_id)
            if plugged != bdm.device_name:
                bdm = self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid,
                                                {"device_name": plugged})
            api.attachment_complete(ctx, bdm.attachment_id)
        except Exception:
            LOG.exception("instance %s: attaching volume %s failed", inst.uuid,
                          bdm.volume_id)
            if plugged is not None:
                with contextlib.suppress(Exception):
                    self.driver.detach_volume(spec, {}, plugged, bdm.volume_id)
            self._delete_attachment(ctx, bdm)
            raise
        LOG.info("instance %s: volume %s attached at %s", inst.uuid, bdm.volume_id,
                 bdm.device_name)
        return bdm

    def _export(self, ctx: Any, attachment_id: str, volume_id: str, connector: dict,
                mountpoint: Optional[str]) -> dict:
        """Give the attachment this host's connector; the volume's connection_info."""
        att = self.volume_api.attachment_update(ctx, attachment_id, connector, mountpoint)
        return self._mark_shared(ctx, volume_id, att["connection_info"])

    def _mark_shared(self, ctx: Any, volume_id: str, info: dict) -> dict:
        """``info`` with ``multiattach`` set when other servers may attach the volume
        too (Cinder's connection_info does not say so): the driver then makes the disk
        shareable, without a host cache, as Nova."""
        if self.volume_api.get(ctx, volume_id).get("multiattach"):
            info = dict(info, multiattach=True)
        return info

    def _delete_attachment(self, ctx: Any, bdm: Any) -> None:
        self._delete_attachment_id(ctx, bdm.attachment_id, bdm.volume_id)

    def _delete_attachment_id(self, ctx: Any, attachment_id: str, volume_id: str) -> None:
        volume.release_attachment(self.volume_api, ctx, attachment_id, f"volume {volume_id}")

    def detach_volume(self, ctx: Any, instance: Any, bdm: Any) -> None:
        """RPC cast: unplug the mapping's volume, delete its attachment and mapping."""
        from nova_lite.compute.manager import instance_spec

        event = "compute_detach_volume"
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
            try:
                inst = self.conductor.server_get(ctx, instance.uuid)
                self.driver.detach_volume(instance_spec(inst), bdm.connection() or {},
                                          bdm.device_name, bdm.volume_id)
                if bdm.attachment_id:
                    self.volume_api.attachment_delete(ctx, bdm.attachment_id)
            except exception.VolumeAttachmentNotFound:
                pass
            except Exception as err:
                LOG.exception("instance %s: detaching volume %s failed", instance.uuid,
                              bdm.volume_id)
                self.conductor.action_event(ctx, instance.uuid, event, "finish",
                                            self.host, "Error", str(err))
                return
            self.conductor.bdm_destroy(ctx, instance.uuid, bdm.uuid)
            LOG.info("instance %s: volume %s detached", instance.uuid, bdm.volume_id)
            self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                        "Success")

    def swap_volume(self, ctx: Any, instance: Any, bdm: Any, new_volume_id: str,
                    new_attachment_id: str) -> Any:
        """RPC call: export the new volume here, have the driver copy the guest's disk
        onto it and switch to it, complete its attachment and delete the old one; the
        mapping after. A failure deletes the new attachment; the guest keeps the old."""
        from nova_lite.compute.manager import instance_spec

        event = "compute_swap_volume"
        with self._lock(instance.uuid):  # type: ignore[attr-defined]
            self.conductor.action_event(ctx, instance.uuid, event, "start", self.host)
            api = self.volume_api
            try:
                inst = self.conductor.server_get(ctx, instance.uuid)
                spec = instance_spec(inst)
                info = self._export(ctx, new_attachment_id, new_volume_id,
                                    self.driver.get_volume_connector(spec),
                                    bdm.device_name)
                self.driver.swap_volume(spec, bdm.connection() or {}, info, bdm.device_name,
                                        bdm.volume_id, new_volume_id)
                api.attachment_complete(ctx, new_attachment_id)
            except Exception as err:
                LOG.exception("instance %s: swapping volume %s for %s failed",
                              instance.uuid, bdm.volume_id, new_volume_id)
                self._delete_attachment_id(ctx, new_attachment_id, new_volume_id)
                self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                            "Error", str(err))
                raise
            old_attachment, old_volume = bdm.attachment_id, bdm.volume_id
            bdm = self.conductor.bdm_update(ctx, inst.uuid, bdm.uuid, {
                "volume_id": new_volume_id, "attachment_id": new_attachment_id,
                "connection_info": json.dumps(info)})
            self._delete_attachment_id(ctx, old_attachment, old_volume)
            LOG.info("instance %s: volume %s swapped for %s", inst.uuid, old_volume,
                     new_volume_id)
            self.conductor.action_event(ctx, instance.uuid, event, "finish", self.host,
                                        "Success")
            return bdm

    def extend_volume(self, ctx: Any, uuid: str, volume_id: str) -> None:
        """Cinder's volume-extended event: the guest's disk of that volume grows to the
        volume's new size (read from Cinder) and the mapping records it. An event for a
        volume the server does not have (any more) is ignored, as in Nova."""
        from nova_lite.compute.manager import instance_spec

        event = "compute_extend_volume"
        with self._lock(uuid):  # type: ignore[attr-defined]
            bdm = next((b for b in self.conductor.bdm_list_by_instance(ctx, uuid).objects
                        if b.volume_id == volume_id and b.destination_type == "volume"),
                       None)
            if bdm is None or not bdm.connection():
                LOG.warning("instance %s: volume-extended for volume %s, which it has "
                            "no connected mapping of", uuid, volume_id)
                return
            self.conductor.action_event(ctx, uuid, event, "start", self.host)
            try:
                inst = self.conductor.server_get(ctx, uuid)
                size = int(self.volume_api.get(ctx, volume_id)["size"])
                self.conductor.bdm_update(ctx, uuid, bdm.uuid, {"volume_size": size})
                self.driver.extend_volume(instance_spec(inst), bdm.connection(),
                                          volume_id, size * GiB)
            except Exception as err:
                LOG.exception("instance %s: extending volume %s failed", uuid, volume_id)
                self.conductor.action_event(ctx, uuid, event, "finish", self.host,
                                            "Error", str(err))
                return
            LOG.info("instance %s: volume %s is now %d GiB in the guest", uuid, volume_id,
                     size)
            self.conductor.action_event(ctx, uuid, event, "finish", self.host, "Success")

    def _reconcile_volumes(self, ctx: Any, instances: list) -> None:
        """Undo the attaches a restart interrupted (mappings of idle servers here whose
        Cinder attachment is missing or not attached)."""
        idle = [i for i in instances if i.task_state is None and i.vm_state != "building"]
        if not idle or not volume.configured(CONF):
            return
        from nova_lite.compute.manager import instance_spec

        by_uuid = {i.uuid: i for i in idle}
        mappings = self.conductor.bdm_list_by_instances(ctx, list(by_uuid))
        for uuid, bdms in mappings.items():
            for bdm in bdms:
                if bdm.get("destination_type") != "volume" or bdm.get("boot_index") == 0 \
                        or not bdm.get("attachment_id"):
                    continue
                try:
                    status = self.volume_api.attachment_get(ctx, bdm.attachment_id)["status"]
                except exception.VolumeAttachmentNotFound:
                    status = None
                except Exception:
                    LOG.exception("instance %s: cannot check attachment %s", uuid,
                                  bdm.attachment_id)
                    continue
                if status == ATTACHED:
                    continue
                LOG.warning("instance %s: attach of volume %s was interrupted (attachment "
                            "%s); undoing it", uuid, bdm.volume_id, status or "gone")
                with contextlib.suppress(Exception):
                    self.driver.detach_volume(instance_spec(by_uuid[uuid]), {},
                                              bdm.device_name, bdm.volume_id)
                if status is not None:
                    self._delete_attachment(ctx, bdm)
                self.conductor.bdm_destroy(ctx, uuid, bdm.uuid)
