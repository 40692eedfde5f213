"""Conductor tasks of volume attach, detach and swap on a server (rpcapi 1.16, 1.19).

The API has already reserved the volume in Cinder (an attachment without a connector);
the conductor checks the server can take it, records the mapping with the attachment
and a device name, and has the server's host connect it. A connect that fails removes
the mapping again (the host has deleted the attachment). The conductor never calls
Cinder itself.
"""

from __future__ import annotations

import logging
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.db import instances as inst_db

LOG = logging.getLogger(__name__)

# vm_states in which a volume may be attached or detached (Nova's, for a server that
# has a host).
VOLUME_VM_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED, states.SUSPENDED)
_DEVICES = [f"/dev/vd{c}" for c in "bcdefghijklmnopqrstuvwxyz"]


def next_device_name(bdms: list) -> str:
    """The first virtio device name no mapping of the server uses (vda is the root)."""
    used = {b.get("device_name") for b in bdms}
    for dev in _DEVICES:
        if dev not in used:
            return dev
    raise exception.InvalidInput(reason="the server has no free disk device name")


class VolumeTasksMixin:
    """Mixed into ConductorManager (which provides cells, compute and the bdm_* methods)."""

    cells: Any
    compute: Any

    def _volume_instance(self, ctx: Any, uuid: str, action: str) -> Any:
        cell, inst = self.cells.cell_and_instance(uuid, action)
        states.check_idle_on_host(action, inst, ctx, VOLUME_VM_STATES)
        inst_db.action_start(cell["database_connection"], uuid, action, ctx.request_id,
                             ctx.user_id, ctx.project_id)
        return inst

    def server_attach_volume(self, ctx: Any, uuid: str, volume_id: str,
                             attachment_id: str, device: Optional[str] = None,
                             tag: Optional[str] = None,
                             delete_on_termination: bool = False) -> Any:
        """Record and connect a volume reserved for the server; its mapping."""
        inst = self._volume_instance(ctx, uuid, "attach_volume")
        bdms = list(self.bdm_list_by_instance(ctx, uuid))  # type: ignore[attr-defined]
        if any(b.get("volume_id") == volume_id for b in bdms):
            raise exception.InvalidVolume(reason=f"volume {volume_id} already attached")
        used = {b.get("device_name") for b in bdms}
        if device and device in used:
            device = None
        bdm = self.bdm_create(ctx, uuid, {  # type: ignore[attr-defined]
            "source_type": "volume", "destination_type": "volume", "volume_id": volume_id,
            "attachment_id": attachment_id, "device_name": device or next_device_name(bdms),
            "device_type": "disk", "disk_bus": "virtio", "boot_index": None,
            "delete_on_termination": bool(delete_on_termination), "tag": tag})
        try:
            return self.compute.attach_volume(ctx, inst.host, inst, bdm)
        except Exception:
            LOG.warning("instance %s: volume %s was not connected; removing its mapping",
                        uuid, volume_id)
            self.bdm_destroy(ctx, uuid, bdm.uuid)  # type: ignore[attr-defined]
            raise

    def server_detach_volume(self, ctx: Any, uuid: str, volume_id: str) -> None:
        """Have the server's host disconnect a volume (it removes the mapping)."""
        bdm = self.bdm_get_by_volume(ctx, volume_id, uuid)  # type: ignore[attr-defined]
        if bdm.get("boot_index") == 0:
            raise exception.Invalid("Cannot detach a root device volume")
        inst = self._volume_instance(ctx, uuid, "detach_volume")
        self.compute.detach_volume(ctx, inst.host, inst, bdm)

    def server_update_volume(self, ctx: Any, uuid: str, volume_id: str,
                             delete_on_termination: bool) -> Any:
        """Change whether the volume goes with the server (2.85); its mapping."""
        bdm = self.bdm_get_by_volume(ctx, volume_id, uuid)  # type: ignore[attr-defined]
        return self.bdm_update(ctx, uuid, bdm.uuid, {  # type: ignore[attr-defined]
            "delete_on_termination": bool(delete_on_termination)})

    def server_swap_volume(self, ctx: Any, uuid: str, volume_id: str, new_volume_id: str,
                           new_attachment_id: str) -> Any:
        """Have the server's host move the volume's disk onto a new volume the caller
        reserved; the mapping after (on failure the host has deleted the reservation)."""
        bdm = self.bdm_get_by_volume(ctx, volume_id, uuid)  # type: ignore[attr-defined]
        if bdm.get("boot_index") == 0:
            raise exception.Invalid("Swapping the root volume is not supported")
        inst = self._volume_instance(ctx, uuid, "swap_volume")
        return self.compute.swap_volume(ctx, inst.host, inst, bdm, new_volume_id,
                                        new_attachment_id)
