"""Servers as plain rows on the wire (server_list_rows), the lean form of a list page.

A row is a dict of only what a server view or a list filter reads: scalar instance
fields, and for a detailed list the flavor's shown keys, metadata, system metadata,
network info, latest fault, tags and attached volumes. A page travels as one JSON
text (dumps), deflated (pack), which the message bus passes on as a plain string.
Times are ISO 8601 text in UTC without an offset (``2026-01-02T03:04:05.000000``). A
server of a cell whose database is down is a row without ``vm_state`` (2.69's minimal
record).
"""

from __future__ import annotations

import base64
import datetime
import zlib
from typing import Any, Optional

from nova_lite import json_text
from nova_lite.db.instance_rows import COLUMNS, FLAVOR_KEYS

TIMES = ("launched_at", "terminated_at", "created_at", "updated_at", "deleted_at")
MINIMAL = ("uuid", "project_id", "user_id", "created_at", "cell_name")


def wire_time(value: Optional[datetime.datetime]) -> Optional[str]:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def for_wire(row: dict) -> dict:
    """The row with its times as text (in place)."""
    for name in TIMES:
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            row[name] = wire_time(value)
    fault = row.get("fault")
    if fault is not None and not isinstance(fault.get("created_at"), (str, type(None))):
        row["fault"] = dict(fault, created_at=wire_time(fault["created_at"]))
    return row


def dumps(rows: list[dict]) -> str:
    return json_text.dumps(rows).decode("utf-8")


def pack(rows: list[dict]) -> str:
    """The rows' JSON text deflated, in base64: a page of servers repeats the same keys
    and values row after row, so it shrinks about tenfold, and the message bus encodes,
    carries and decodes that instead of the text escaped twice (its JSON envelope
    holds the reply in a JSON string)."""
    return base64.b64encode(zlib.compress(json_text.dumps(rows), 1)).decode("ascii")


def unpack(text: str) -> list[dict]:
    return json_text.loads(zlib.decompress(base64.b64decode(text)))


def from_instance(inst: Any, detail: bool = True) -> dict:
    """The row of an Instance object (a build request, a down cell's minimal record)."""
    if not inst.obj_attr_is_set("vm_state"):
        return {name: inst.get(name) for name in MINIMAL}
    row = {name: inst.get(name) for name in COLUMNS}
    row["deleted"] = bool(row["deleted"])
    row["locked"] = bool(row["locked"])
    row["cell_name"] = inst.get("cell_name")
    if not detail:
        return row
    flavor = inst.get("flavor")
    fault = inst.get("fault")
    row.update(
        user_data=inst.get("user_data"),
        flavor={k: flavor.get(k) for k in FLAVOR_KEYS} if flavor is not None else None,
        metadata=dict(inst.get("metadata") or {}),
        system_metadata=dict(inst.get("system_metadata") or {}),
        network_info=inst.get("network_info"),
        fault=None if fault is None else {k: fault.get(k) for k in (
            "code", "message", "details", "created_at")},
        tags=list(inst.get("tags") or []),
        volumes_attached=list(inst.get("volumes_attached") or []))
    return row
