"""Filters, sort orders and markers of server lists, shared by every cell's query (whole
instances or lean rows) and their merge.

A list is ordered by the requested (field, descending) keys, then by ``uuid`` (unique in
every cell) so that a marker names one position in the merged list of all cells. NULL
sorts before every value, as MySQL and SQLite order it; the merge in Python uses the same
rule (``sort_key``), and a cell's page after a marker is a keyset condition on the
marker's values (``after``), so each cell reads only its part of the next page.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Callable, Optional

import sqlalchemy as sa

from nova_lite.db import instance_tags
from nova_lite.db import main_models as m

Sort = list[tuple[str, bool]]

# Instance columns a server list may be sorted by (the API maps Nova's keys onto them).
SORTABLE = frozenset((
    "access_ip_v4", "access_ip_v6", "availability_zone", "config_drive", "created_at",
    "display_description", "display_name", "host", "hostname", "image_ref", "key_name",
    "launch_index", "launched_at", "locked", "locked_by", "node", "power_state",
    "project_id", "task_state", "terminated_at", "updated_at", "user_id", "uuid",
    "vm_state"))

DEFAULT: Sort = [("created_at", True), ("uuid", True)]


def normalize(sort: Optional[list]) -> Sort:
    """The requested order (Nova's default, newest first, when none) ended by uuid in the
    first key's direction; ValueError for a field that is not sortable."""
    if not sort:
        return list(DEFAULT)
    out: Sort = []
    for field, descending in sort:
        if field not in SORTABLE:
            raise ValueError(f"{field} is not a sort key")
        if field not in {f for f, _ in out}:
            out.append((field, bool(descending)))
    if "uuid" not in {f for f, _ in out}:
        out.append(("uuid", out[0][1]))
    return out


def order_by(q: Any, sort: Sort) -> Any:
    for field, descending in sort:
        col = getattr(m.Instance, field)
        q = q.order_by(col.desc() if descending else col.asc())
    return q


def _db_value(value: Any) -> Any:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value


def _beyond(col: Any, value: Any, descending: bool) -> Any:
    """Rows strictly after ``value`` in this column's direction (NULL being lowest)."""
    if value is None:
        return sa.false() if descending else col.isnot(None)
    if descending:
        return sa.or_(col < value, col.is_(None))
    return col > value


def _same(col: Any, value: Any) -> Any:
    return col.is_(None) if value is None else col == value


def after(q: Any, sort: Sort, marker: dict) -> Any:
    """Only the rows that come after the marker's values (``marker[field]``) in ``sort``."""
    terms = []
    for n, (field, descending) in enumerate(sort):
        col = getattr(m.Instance, field)
        prefix = [_same(getattr(m.Instance, f), _db_value(marker[f])) for f, _ in sort[:n]]
        terms.append(sa.and_(*prefix, _beyond(col, _db_value(marker[field]), descending)))
    return q.where(sa.or_(*terms))


def marker_values(inst: Any, sort: Sort) -> dict:
    return {field: inst.get(field) for field, _ in sort}


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def sort_key(sort: Sort) -> Callable[[Any], Any]:
    """A key for sorted()/heapq.merge() putting servers (or marker dicts) in ``sort``
    order."""

    def compare(a: Any, b: Any) -> int:
        for field, descending in sort:
            x, y = _comparable(a.get(field)), _comparable(b.get(field))
            if x == y:
                continue
            if x is None or y is None:
                less = x is None
            else:
                less = x < y
            return (1 if less else -1) if descending else (-1 if less else 1)
        return 0

    return functools.cmp_to_key(compare)


def listed(q: Any, project_id: Optional[str], filters: dict, sort: Sort,
           after_values: Optional[dict]) -> Any:
    """``q`` (a select from instances) narrowed to a list's filters, after the marker's
    values, in ``sort`` order, cut to ``filters["limit"]``."""
    if not filters.get("deleted"):
        q = q.where(m.Instance.deleted == 0)
        if not filters.get("soft_deleted"):  # hidden unless asked for, as in Nova
            q = q.where(sa.or_(m.Instance.vm_state.is_(None),
                               m.Instance.vm_state != "soft-delete"))
    if project_id is not None:
        q = q.where(m.Instance.project_id == project_id)
    if filters.get("host"):
        q = q.where(m.Instance.host == filters["host"])
    if filters.get("vm_state"):
        q = q.where(m.Instance.vm_state.in_(filters["vm_state"]))
    if filters.get("uuids") is not None:
        q = q.where(m.Instance.uuid.in_(filters["uuids"]))
    if filters.get("changes-since"):
        q = q.where(m.Instance.updated_at >= filters["changes-since"])
    if filters.get("flavor_id"):
        q = q.where(m.Instance.flavor.like(f'%"flavorid": "{filters["flavor_id"]}"%'))
    if filters.get("image"):
        q = q.where(m.Instance.image_ref == filters["image"])
    for column, value in (filters.get("columns") or {}).items():
        q = q.where(getattr(m.Instance, column) == value)
    if filters.get("name_contains"):
        escaped = (filters["name_contains"].replace("!", "!!").replace("%", "!%")
                   .replace("_", "!_"))
        q = q.where(m.Instance.display_name.like(f"%{escaped}%", escape="!"))
    q = instance_tags.tag_filters(q, filters)
    if after_values is not None:
        q = after(q, sort, after_values)
    q = order_by(q, sort)
    if filters.get("limit") is not None:
        q = q.limit(filters["limit"])
    return q
