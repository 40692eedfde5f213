"""Server lists across cells, as Nova's multi-cell list builds them.

Each source (the build requests of the API database, then every cell database) yields
its servers already in the requested order and, with a marker, only those after it:
the marker server is read once from whichever cell (or build request) holds it, and its
sort values become a keyset condition in every cell's query, each limited to the page
size. The sorted sources are then merged (heapq.merge) and cut to the page.

A cell whose database does not answer is, per the caller's ``down_cells``: ``minimal``
(2.69: the servers the API database maps to it, as records with only uuid, project,
user and creation time), ``skip`` (left out) or ``error`` (CellsUnavailable, a 500).
"""

from __future__ import annotations

import concurrent.futures
import heapq
import logging
from typing import Any, Callable, Iterable, Optional

from nova_lite import exception
from nova_lite.conductor import server_rows
from nova_lite.db import cells as cells_db
from nova_lite.db import instance_paging as paging
from nova_lite.db import instance_rows as rows_db
from nova_lite.db import instances as inst_db
from nova_lite.objects.instance import Instance
from nova_lite.objects.request_spec import RequestSpec

LOG = logging.getLogger(__name__)

DOWN_CELL_MODES = ("minimal", "skip", "error")
# Threads reading cell databases for lists (each holds one pooled connection at most).
_READERS = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="cell-read")


class ServerListMixin:
    """Mixed into ConductorManager (which provides api_url, cells and server_get)."""

    api_url: str
    cells: Any

    def server_list(self, ctx: Any, project_id: Optional[str], filters: dict,
                    limit: Optional[int], marker: Optional[str],
                    sort: Optional[list] = None, down_cells: str = "skip") -> list:
        """Servers of a project (None = all) across build requests and every cell in
        ``sort`` order ([[field, descending], ...]; newest first by default), the page
        after ``marker`` of at most ``limit``."""

        def read(cell: dict, cell_filters: dict, order: list, after: Optional[dict]
                 ) -> list:
            return inst_db.instance_list(cell["database_connection"], cell["name"],
                                         project_id, cell_filters, sort=order, after=after)

        def pending(inst: Instance) -> Instance:
            inst.volumes_attached = []  # none attached before it has a cell
            return inst

        return self._merged(ctx, project_id, filters, limit, marker, sort, down_cells,
                            read, pending)

    def server_list_rows(self, ctx: Any, project_id: Optional[str], filters: dict,
                         limit: Optional[int], marker: Optional[str],
                         sort: Optional[list] = None, down_cells: str = "skip",
                         detail: bool = True, packed: bool = False) -> str:
        """server_list's page as plain rows (conductor.server_rows) in one JSON text:
        what list views need without versioned objects, which cost more than the
        query at 1,000 servers a page, and without the message bus serializer walking
        every value. ``detail`` False leaves out what only a detailed view shows;
        ``packed``: the text deflated (server_rows.pack)."""

        def read(cell: dict, cell_filters: dict, order: list, after: Optional[dict]
                 ) -> list:
            return rows_db.instance_rows(cell["database_connection"], cell["name"],
                                         project_id, cell_filters, sort=order, after=after,
                                         detail=detail)

        def pending(inst: Instance) -> dict:
            inst.volumes_attached = []
            return server_rows.from_instance(inst, detail)

        merged = self._merged(ctx, project_id, filters, limit, marker, sort, down_cells,
                              read, pending)
        encode = server_rows.pack if packed else server_rows.dumps
        return encode([server_rows.for_wire(
            r if isinstance(r, dict) else server_rows.from_instance(r, detail))
            for r in merged])

    def _merged(self, ctx: Any, project_id: Optional[str], filters: dict,
                limit: Optional[int], marker: Optional[str], sort: Optional[list],
                down_cells: str, read: Callable[[dict, dict, list, Optional[dict]], list],
                pending_item: Callable[[Instance], Any]) -> list:
        """The page merged from every cell (``read``) and the build requests (each made
        a list item by ``pending_item``); down cells' servers as minimal Instances."""
        if down_cells not in DOWN_CELL_MODES:
            raise exception.Invalid(reason=f"down_cells must be one of {DOWN_CELL_MODES}")
        try:
            order = paging.normalize([tuple(s) for s in sort or ()])
        except ValueError as err:
            raise exception.Invalid(reason=str(err)) from err
        filters = dict(filters or {})
        after = None
        if marker:
            after = self._marker_values(ctx, marker, order)
        key = paging.sort_key(order)
        # Build requests first, then the cells: a server handed over to its cell in
        # between is in the cell by then (its build request goes after its instance
        # is written), so it is never missed; one read in both keeps the cell copy.
        requests = [] if filters.get("host") else cells_db.build_request_list(
            self.api_url, project_id=project_id)
        in_cells: list[list] = []
        down: list[dict] = []
        for cell, part in _scatter(self.cells.all(), lambda cell: read(
                cell, dict(filters, limit=limit), order, after)):
            if isinstance(part, exception.DatabaseUnavailable):
                LOG.warning("cell %s (%s) is down: %s", cell["name"], cell["uuid"], part)
                down.append(dict(cell, reason=str(part)))
            else:
                in_cells.append(part)
        seen = {i.get("uuid") for part in in_cells for i in part}
        pending = []
        for br in requests:
            inst = Instance.obj_from_primitive(br["instance"])
            if inst.uuid not in seen and _matches(inst, filters) and (
                    after is None or key(inst) > key(after)):
                pending.append(pending_item(inst))
        pending.sort(key=key)
        merged = _take(heapq.merge(pending, *in_cells, key=key), limit)
        if down and down_cells == "error":
            raise exception.CellsUnavailable(
                cells=", ".join(c["uuid"] for c in down),
                reason="; ".join(c["reason"] for c in down))
        if down and down_cells == "minimal":
            room = None if limit is None else limit - len(merged)
            merged.extend(self._down_cell_servers(down, project_id, room))
        return merged

    def _marker_values(self, ctx: Any, marker: str, order: list) -> dict:
        """The marker server's sort values: one column read in its cell (every page of
        a long list has a marker), else from the server itself (a build request)."""
        try:
            cell = self.cells.instance_cell(marker)
        except exception.InstanceNotFound:
            cell = None  # _marker_server says so
        if cell is not None:
            values = rows_db.sort_values(cell["database_connection"], marker,
                                         [field for field, _ in order])
            if values is not None:
                return values
        return paging.marker_values(self._marker_server(ctx, marker), order)

    def _marker_server(self, ctx: Any, marker: str) -> Any:
        """The marker's server, read in whichever cell holds it (or its build request);
        400 when there is none."""
        try:
            return self.server_get(ctx, marker)
        except exception.InstanceNotFound:
            raise exception.Invalid(message=f"marker [{marker}] not found") from None

    def _down_cell_servers(self, down: list[dict], project_id: Optional[str],
                           room: Optional[int]) -> list[Instance]:
        out: list[Instance] = []
        for cell in down:
            if room is not None and room <= 0:
                break
            for m in cells_db.instance_mappings_in_cell(self.api_url, cell["uuid"],
                                                        project_id, room):
                out.append(_minimal(m["instance_uuid"], m["project_id"], m["user_id"],
                                    m["created_at"], cell["name"]))
            if room is not None:
                room = room - len(out)
        return out

    def _down_cell_server(self, uuid: str, cell: dict) -> Instance:
        """Nova's 2.69 construct for a server in a cell that does not answer: what the
        API database knows from its mapping and request spec."""
        mapping = cells_db.instance_mapping_get(self.api_url, uuid)
        spec = RequestSpec.obj_from_primitive(cells_db.request_spec_get(self.api_url, uuid))
        inst = _minimal(uuid, mapping["project_id"], mapping["user_id"] or spec.user_id,
                        mapping["created_at"], cell["name"])
        inst.image_ref = spec.image_id
        inst.flavor = spec.flavor
        inst.availability_zone = spec.availability_zone
        inst.power_state = 0
        return inst


def _minimal(uuid: str, project_id: str, user_id: Optional[str], created_at: Any,
             cell_name: Optional[str]) -> Instance:
    """A server record with only what the API database holds; ``vm_state`` stays unset,
    which is how views recognise it (status UNKNOWN)."""
    inst = Instance(uuid=uuid, project_id=project_id, user_id=user_id,
                    created_at=created_at, cell_name=cell_name)
    inst.obj_reset_changes()
    return inst


def _scatter(cells: list[dict], read: Callable[[dict], list]
             ) -> list[tuple[dict, Any]]:
    """``read`` of every cell at once (as Nova's scatter-gather): a list waits for its
    slowest cell, not for the sum of them. Each cell's rows, or its
    DatabaseUnavailable; any other error is raised."""
    if len(cells) < 2:
        return [(cell, _read_one(read, cell)) for cell in cells]
    futures = [(cell, _READERS.submit(_read_one, read, cell)) for cell in cells]
    return [(cell, future.result()) for cell, future in futures]


def _read_one(read: Callable[[dict], list], cell: dict) -> Any:
    try:
        return read(cell)
    except exception.DatabaseUnavailable as err:
        return err


def _take(items: Iterable[Any], limit: Optional[int]) -> list[Any]:
    out = []
    for inst in items:
        if limit is not None and len(out) >= limit:
            break
        out.append(inst)
    return out


def _matches(inst: Instance, filters: dict) -> bool:
    """Apply list filters to a build request (cell rows are filtered in SQL)."""
    if filters.get("vm_state") and inst.vm_state not in filters["vm_state"]:
        return False
    if filters.get("uuids") is not None and inst.uuid not in filters["uuids"]:
        return False
    if filters.get("image") and inst.image_ref != filters["image"]:
        return False
    if filters.get("flavor_id") and inst.flavor.flavorid != filters["flavor_id"]:
        return False
    if any(str(inst.get(column)) != value
           for column, value in (filters.get("columns") or {}).items()):
        return False
    if filters.get("name_contains") and (
            filters["name_contains"].lower() not in (inst.display_name or "").lower()):
        return False
    tags = set(inst.get("tags") or ())
    if filters.get("tags") and not set(filters["tags"]) <= tags:
        return False
    if filters.get("tags-any") and not set(filters["tags-any"]) & tags:
        return False
    if filters.get("not-tags") and set(filters["not-tags"]) <= tags:
        return False
    if filters.get("not-tags-any") and set(filters["not-tags-any"]) & tags:
        return False
    return True
