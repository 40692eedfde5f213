"""Conductor methods for block device mappings (rpcapi 1.15): the other services read
and write an instance's disks only through these. A server still being scheduled has
its requested mappings in its request spec; they reach its cell with it."""

from __future__ import annotations

import logging
import uuid as uuidlib
from typing import Any, Optional

from nova_lite import exception, volume
from nova_lite.compute.boot_volumes import release_volumes
from nova_lite.conf import CONF
from nova_lite.db import block_devices as bdm_db
from nova_lite.db import cells as cells_db
from nova_lite.objects.block_device import (BlockDeviceMapping, BlockDeviceMappingList,
                                            volume_backed)
from nova_lite.objects.request_spec import RequestSpec

LOG = logging.getLogger(__name__)


# Actions that would rebuild, move or copy a local root disk: refused for a server
# whose root is a volume (moves, shelve and rebuild take its volumes along; the API
# snapshots its volumes for createImage, refuses createBackup and 2.93 rebuilds).
# rescue is let through when the API allows it (a stable device rescue from 2.87).
NOT_FOR_VOLUME_BACKED = frozenset(("rescue", "createImage", "createBackup"))


def for_instance(template: list, instance_uuid: str) -> list:
    """Copies of a create request's mappings for one of its servers, each with a uuid
    derived from the template's and the server's (the same on every replay)."""
    out = []
    for bdm in template:
        copy = bdm.obj_clone()
        copy.instance_uuid = instance_uuid
        if bdm.instance_uuid != instance_uuid:
            copy.uuid = str(uuidlib.uuid5(uuidlib.UUID(bdm.uuid), instance_uuid))
        out.append(copy)
    return out


def writable(bdm: BlockDeviceMapping) -> dict:
    """The values of a requested mapping its cell's row is created with."""
    return {k: v for k, v in bdm.to_dict().items() if k in bdm_db.WRITABLE}


class BlockDevicesMixin:
    api_url: str
    cells: Any
    _volume_api: Any = None

    @property
    def volume_api(self) -> Any:
        """The Cinder client [cinder] describes (None without one)."""
        if self._volume_api is None:
            self._volume_api = volume.get_api(CONF)
        return self._volume_api

    def _bdm_cell_url(self, instance_uuid: str) -> str:
        cell = self.cells.instance_cell(instance_uuid)
        if cell is None:
            raise exception.InstanceInvalidState(
                action="change block devices", instance_uuid=instance_uuid,
                attr="vm_state", state="building")
        return cell["database_connection"]

    def _release_reserved_volumes(self, ctx: Any, instance_uuid: str) -> None:
        """Delete the Cinder attachments that reserved existing volumes for a server
        that never reached a host (buried in cell0, or deleted while scheduling)."""
        reserved = [b for b in self._bdms_of_spec(instance_uuid) if b.get("attachment_id")]
        if not reserved:
            return
        api = self.volume_api
        if api is None:
            LOG.error("volumes reserved for %s cannot be released: no [cinder]",
                      instance_uuid)
            return
        for bdm in reserved:
            volume.release_attachment(api, ctx, bdm.attachment_id,
                                      f"volume {bdm.volume_id} reserved for {instance_uuid}")

    def _release_volumes_of(self, ctx: Any, url: str, instance_uuid: str) -> None:
        """A server deleted without its host: its attachments and delete_on_termination
        volumes go as the host would have released them."""
        bdms = [b for b in bdm_db.bdm_list(url, [instance_uuid])[instance_uuid]
                if b.destination_type == "volume"]
        if not bdms:
            return
        if self.volume_api is None:
            LOG.error("the volumes of %s cannot be released: no [cinder]", instance_uuid)
            return
        release_volumes(ctx, self.volume_api, bdms)

    def _refuse_if_volume_backed(self, url: str, instance_uuid: str, action: str) -> None:
        if not volume_backed(bdm_db.bdm_list(url, [instance_uuid])[instance_uuid]):
            return
        if action == "rescue":  # Nova's answer before 2.87 or without a stable device rescue
            raise exception.Invalid(
                message=f"Instance {instance_uuid} cannot be rescued: Cannot rescue a "
                        "volume-backed instance")
        raise exception.Invalid(
            message=f"Cannot '{action}' instance {instance_uuid}: it is booted from a "
                    "volume, which this deployment does not support for this action.")

    def bdm_create(self, ctx: Any, instance_uuid: str, values: dict,
                   uuid: Optional[str] = None) -> BlockDeviceMapping:
        """A new mapping of an instance in its cell (``uuid``: replay-safe)."""
        return bdm_db.bdm_create(self._bdm_cell_url(instance_uuid), instance_uuid,
                                 dict(values), uuid)

    def bdm_list_by_instance(self, ctx: Any, instance_uuid: str) -> BlockDeviceMappingList:
        """The live mappings of an instance, boot disk first (those it asked for while it
        is still a build request)."""
        return BlockDeviceMappingList.of(self._bdms_of(instance_uuid))

    def _bdms_of(self, instance_uuid: str) -> list:
        cell = self.cells.instance_cell(instance_uuid)
        if cell is not None:
            return bdm_db.bdm_list(cell["database_connection"], [instance_uuid])[instance_uuid]
        return self._bdms_of_spec(instance_uuid)

    def _bdms_of_spec(self, instance_uuid: str) -> list:
        """The mappings a server asked for, from its request spec."""
        try:
            spec = RequestSpec.obj_from_primitive(
                cells_db.request_spec_get(self.api_url, instance_uuid))
        except exception.NotFound:
            return []
        return list(spec.get("block_device_mappings") or [])

    def bdm_list_by_instances(self, ctx: Any, instance_uuids: list[str]) -> dict:
        """{instance uuid: [mappings]} for many instances at once (server views): one
        query per cell, whichever cell each is in (none yet for a build request). A
        cell whose database is down is passed over: a list holds none of its servers
        but as records without volumes (2.69)."""
        out: dict[str, list] = {u: [] for u in instance_uuids}
        if not instance_uuids:
            return out
        for cell in self.cells.real_cells():
            try:
                found = bdm_db.bdm_list(cell["database_connection"], instance_uuids)
            except exception.DatabaseUnavailable:
                LOG.warning("cell %s is down; its volume mappings are left out",
                            cell["name"])
                continue
            for uuid, bdms in found.items():
                if bdms:
                    out[uuid] = bdms
        return out

    def bdm_get_by_volume(self, ctx: Any, volume_id: str,
                          instance_uuid: Optional[str] = None) -> BlockDeviceMapping:
        """The live mapping of a volume (on that instance); VolumeBDMNotFound if none."""
        if instance_uuid is not None:
            return bdm_db.bdm_get_by_volume(self._bdm_cell_url(instance_uuid), volume_id,
                                            instance_uuid)
        for cell in self.cells.real_cells():
            try:
                return bdm_db.bdm_get_by_volume(cell["database_connection"], volume_id)
            except exception.VolumeBDMNotFound:
                continue
        raise exception.VolumeBDMNotFound(volume_id=volume_id)

    def bdm_update(self, ctx: Any, instance_uuid: str, bdm_uuid: str, values: dict
                   ) -> BlockDeviceMapping:
        """Set fields of a mapping (attachment_id, connection_info, volume_id, ...)."""
        return bdm_db.bdm_update(self._bdm_cell_url(instance_uuid), bdm_uuid, dict(values))

    def bdm_destroy(self, ctx: Any, instance_uuid: str, bdm_uuid: str) -> None:
        """Remove a mapping (a detached volume); a missing one is not an error."""
        bdm_db.bdm_destroy(self._bdm_cell_url(instance_uuid), bdm_uuid)
