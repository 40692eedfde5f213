"""The conductor's view of cells: which database serves which cell, cached in-process."""

from __future__ import annotations

import threading
import time
from typing import Any, Optional

from nova_lite import exception
from nova_lite.compute import states
from nova_lite.db import cells as cells_db
from nova_lite.db import instances as inst_db
from nova_lite.objects.instance import Instance

CACHE_SECONDS = 30.0
# An unmapped host is looked up again at most this often (discover_hosts maps it).
HOST_RELOAD_SECONDS = 2.0


class CellDirectory:
    """Cell mappings from the API database, refreshed on a miss or after CACHE_SECONDS."""

    def __init__(self, api_url: str, local_cell_url: Optional[str]) -> None:
        self.api_url = api_url
        self.local_cell_url = local_cell_url
        self._lock = threading.Lock()
        self._cells: list[dict] = []
        self._loaded = 0.0
        self._instance_cells: dict[str, dict] = {}
        self._host_cells: dict[str, str] = {}
        self._hosts_loaded = float("-inf")

    def _refresh(self, force: bool = False) -> list[dict]:
        with self._lock:
            if force or time.monotonic() - self._loaded > CACHE_SECONDS:
                self._cells = cells_db.cell_list(self.api_url)
                self._loaded = time.monotonic()
            return self._cells

    def all(self) -> list[dict]:
        return self._refresh()

    def real_cells(self) -> list[dict]:
        """Every cell but cell0 (which only holds instances that failed to schedule)."""
        return [c for c in self._refresh() if c["uuid"] != cells_db.CELL0_UUID]

    def by_uuid(self, uuid: str) -> dict:
        for force in (False, True):
            for cell in self._refresh(force):
                if cell["uuid"] == uuid:
                    return cell
        raise exception.CellMappingNotFound(uuid=uuid)

    def cell0(self) -> dict:
        return self.by_uuid(cells_db.CELL0_UUID)

    def local_cell(self) -> Optional[dict]:
        """The mapped cell whose database is this conductor's [database] connection."""
        for force in (False, True):
            for cell in self._refresh(force):
                if cell["database_connection"] == self.local_cell_url:
                    return cell
        return None

    def local_cell_url_or_first(self) -> str:
        if self.local_cell_url:
            return self.local_cell_url
        cells = self.real_cells()
        if not cells:
            raise exception.ConfigError(reason="no [database] connection and no cell mapped")
        return cells[0]["database_connection"]

    def cell_and_instance(self, instance_uuid: str, action: str) -> tuple[dict, Any]:
        """The cell and instance row of a server that has left its build request; 409
        (vm_state building) while it is one, as Nova answers actions on such a server."""
        cell = self.instance_cell(instance_uuid)
        if cell is None:
            raise exception.InstanceInvalidState(action=action, instance_uuid=instance_uuid,
                                                 attr="vm_state", state=states.BUILDING)
        return cell, inst_db.instance_get(cell["database_connection"], instance_uuid,
                                          cell["name"])

    def instance_cell(self, instance_uuid: str) -> Optional[dict]:
        """Cell of an instance (None while it is a build request); 404 if unknown/deleted."""
        cell = self._instance_cells.get(instance_uuid)
        if cell is not None:
            return cell
        mapping = cells_db.instance_mapping_get(self.api_url, instance_uuid)
        return self._mapped(instance_uuid, mapping["queued_for_delete"], mapping["cell"])

    def instance_cell_or_request(self, instance_uuid: str
                                 ) -> tuple[Optional[dict], Optional[Instance]]:
        """(cell, None) of an instance in a cell; (None, the instance its build request
        holds) while it is one; 404 if unknown or deleted. One read of the API database
        where instance_cell and then the build request would take two: a polled GET of a
        server being built makes it many times."""
        cell = self._instance_cells.get(instance_uuid)
        if cell is not None:
            return cell, None
        queued, cell, building = cells_db.instance_whereabouts(self.api_url, instance_uuid)
        cell = self._mapped(instance_uuid, queued, cell)
        if cell is not None:
            return cell, None
        if building is None:  # its build request deleted with the server
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        return None, Instance.obj_from_primitive(building)

    def _mapped(self, instance_uuid: str, queued_for_delete: bool, cell: Optional[dict]
                ) -> Optional[dict]:
        """The cell a mapping names (remembered), None for none; 404 if deleted."""
        if queued_for_delete:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        if cell is not None:
            self.remember(instance_uuid, cell)
        return cell

    def remember(self, instance_uuid: str, cell: dict) -> None:
        """The instance lives in ``cell`` from now on (its mapping says so)."""
        with self._lock:
            if len(self._instance_cells) > 100000:
                self._instance_cells.clear()
            self._instance_cells[instance_uuid] = cell

    def forget_instance(self, instance_uuid: str) -> None:
        self._instance_cells.pop(instance_uuid, None)

    def transport_url_of(self, host: str) -> Optional[str]:
        """The message bus of a compute host's cell (None while the host is unmapped):
        where this conductor casts to it."""
        cell_uuid = self._host_cells.get(host)
        if cell_uuid is None and time.monotonic() - self._hosts_loaded > HOST_RELOAD_SECONDS:
            with self._lock:
                self._host_cells = {m["host"]: m["cell_uuid"]
                                    for m in cells_db.host_mapping_list(self.api_url)}
                self._hosts_loaded = time.monotonic()
            cell_uuid = self._host_cells.get(host)
        if cell_uuid is None:
            return None
        try:
            return self.by_uuid(cell_uuid)["transport_url"]
        except exception.CellMappingNotFound:
            return None

    def serves_one_cell(self, transport_url: Optional[str]) -> bool:
        """Whether this conductor is a cell conductor (Nova's split layout): its
        [database] is a cell's, on that cell's own message bus, and another cell has a
        different one. Such a conductor serves its cell's computes; scheduling and the
        retries of interrupted builds belong to the super conductor on the top bus."""
        local = self.local_cell()
        if local is None or local["uuid"] == cells_db.CELL0_UUID:
            return False
        if local["transport_url"] != transport_url:
            return False
        return any(c["transport_url"] != transport_url for c in self.real_cells())
