"""Conductor methods for block device mappings (rpcapi 1.15): the other services read
and write an instance's disks only through these. A server still being scheduled has
its requested mappings in its request spec; they reach its cell with it."""

from __future__ import annotations

from typing import Any, Optional

from nova_lite import exception
from nova_lite.db import block_devices as bdm_db
from nova_lite.db import cells as cells_db
from nova_lite.objects.block_device import BlockDeviceMapping, BlockDeviceMappingList
from nova_lite.objects.request_spec import RequestSpec


class BlockDevicesMixin:
    api_url: str
    cells: Any

    def _bdm_cell_url(self, instance_uuid: str) -> str:
        cell = self.cells.instance_cell(instance_uuid)
        if cell is None:
            raise exception.InstanceInvalidState(
                action="change block devices", instance_uuid=instance_uuid,
                attr="vm_state", state="building")
        return cell["database_connection"]

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
        try:
            spec = RequestSpec.obj_from_primitive(
                cells_db.request_spec_get(self.api_url, instance_uuid))
        except exception.NotFound:
            return []
        return list(spec.get("block_device_mappings") or [])

    def bdm_list_by_instances(self, ctx: Any, instance_uuids: list[str]) -> dict:
        """{instance uuid: [mappings]} for many instances at once (server lists)."""
        out: dict[str, list] = {}
        by_url: dict[str, list[str]] = {}
        for uuid in instance_uuids:
            try:
                cell = self.cells.instance_cell(uuid)
            except exception.InstanceNotFound:
                out[uuid] = []
                continue
            if cell is None:
                out[uuid] = self._bdms_of(uuid)
            else:
                by_url.setdefault(cell["database_connection"], []).append(uuid)
        for url, uuids in by_url.items():
            out.update(bdm_db.bdm_list(url, uuids))
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
