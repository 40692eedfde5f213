"""The conductor's view of cells: which database serves which cell, cached in-process."""

from __future__ import annotations

import threading
import time
from typing import Optional

from nova_lite import exception
from nova_lite.db import cells as cells_db

CACHE_SECONDS = 30.0


class CellDirectory:
    """Cell mappings from the API database, refreshed on a miss or after CACHE_SECONDS."""

    def __init__(self, api_url: str, local_cell_url: Optional[str]) -> None:
        self.api_url = api_url
        self.local_cell_url = local_cell_url
        self._lock = threading.Lock()
        self._cells: list[dict] = []
        self._loaded = 0.0
        self._instance_cells: dict[str, dict] = {}

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

    def instance_cell(self, instance_uuid: str) -> Optional[dict]:
        """Cell of an instance (None while it is a build request); 404 if unknown/deleted."""
        cell = self._instance_cells.get(instance_uuid)
        if cell is not None:
            return cell
        mapping = cells_db.instance_mapping_get(self.api_url, instance_uuid)
        if mapping["queued_for_delete"]:
            raise exception.InstanceNotFound(instance_id=instance_uuid)
        cell = mapping["cell"]
        if cell is not None:
            with self._lock:
                if len(self._instance_cells) > 100000:
                    self._instance_cells.clear()
                self._instance_cells[instance_uuid] = cell
        return cell

    def forget_instance(self, instance_uuid: str) -> None:
        self._instance_cells.pop(instance_uuid, None)
