"""The conductor's side of os-simple-tenant-usage: instances (deleted ones too) that were
running at some time in a window, across every cell, in (project, uuid) order."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from nova_lite import exception
from nova_lite.db import instances as inst_db


class UsageMixin:
    cells: Any

    def instances_in_window(self, ctx: Any, project_id: Optional[str], start: datetime,
                            end: datetime, limit: Optional[int] = None,
                            marker: Optional[str] = None) -> list:
        """Instances launched before ``end`` and not terminated before ``start`` (naive
        UTC), of one project or all; paged by ``marker`` (an instance uuid)."""
        after = None
        if marker is not None:
            for cell in self.cells.all():
                found = inst_db.instance_sort_key(cell["database_connection"], marker)
                if found is not None:
                    after = found
                    break
            else:
                raise exception.Invalid(message=f"Marker {marker} could not be found.")
        out: list = []
        for cell in self.cells.all():
            out.extend(inst_db.instance_list_in_window(
                cell["database_connection"], cell["name"], project_id, start, end,
                limit, after))
        out.sort(key=lambda i: (i.project_id, i.uuid))
        return out[:limit] if limit is not None else out
