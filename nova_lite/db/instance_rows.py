"""Server list pages as plain rows: only the columns a server view (or a list filter
applied after the query) reads, without building ORM or versioned objects.

A page costs one query on instances, however many servers it holds. A detailed list's
query also joins their network info caches and reads each one's tags and attached
volumes (joined text per row, as a show reads them: see engine.JOINED_MAX); one more
query reads the latest faults of the servers that show one. JSON columns are decoded
once per distinct text (servers of one flavor share it). Times stay datetimes here;
the conductor puts them on the wire as text.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite.db import block_devices, instance_paging, instance_tags
from nova_lite.db import main_models as m
from nova_lite.db.engine import reading

# Scalar columns every row carries: what views show, sort keys and post-query filters.
COLUMNS = ("id", "uuid", "display_name", "display_description", "hostname", "project_id",
           "user_id", "host", "node", "vm_state", "task_state", "power_state", "image_ref",
           "key_name", "availability_zone", "pinned_availability_zone", "access_ip_v4",
           "access_ip_v6", "config_drive", "locked", "locked_by", "launch_index",
           "reservation_id", "launched_at", "terminated_at", "created_at", "updated_at",
           "deleted_at", "deleted")
# Only for detailed rows.
DETAIL_COLUMNS = ("user_data", "flavor", "metadata_json", "system_metadata")
# The flavor keys a server view shows (2.47 embeds them; older versions link the id).
FLAVOR_KEYS = ("flavorid", "name", "vcpus", "memory_mb", "root_gb", "ephemeral_gb", "swap",
               "extra_specs")


class _Decoded:
    """json.loads once per distinct text within a page."""

    def __init__(self) -> None:
        self._seen: dict[Optional[str], Any] = {}

    def __call__(self, text: Optional[str], empty: Any) -> Any:
        try:
            return self._seen[text]
        except KeyError:
            value = json.loads(text) if text else empty
            self._seen[text] = value
            return value


def _flavor(decoded: _Decoded, text: str) -> dict:
    whole = decoded(text, {})
    return {k: whole.get(k) for k in FLAVOR_KEYS}


def _faults(session: Session, uuids: list[str]) -> dict[str, dict]:
    """The latest fault of each instance (for those whose view shows one)."""
    if not uuids:
        return {}
    f = m.InstanceFault
    latest = sa.select(sa.func.max(f.id)).where(f.instance_uuid.in_(uuids)).group_by(
        f.instance_uuid)
    rows = session.execute(sa.select(f.instance_uuid, f.code, f.message, f.details,
                                     f.created_at).where(f.id.in_(latest)))
    return {r.instance_uuid: {"code": r.code, "message": r.message, "details": r.details,
                              "created_at": r.created_at} for r in rows}


@reading
def instance_rows(session: Session, cell_name: Optional[str],
                  project_id: Optional[str] = None, filters: Optional[dict] = None,
                  sort: Optional[list] = None, after: Optional[dict] = None,
                  detail: bool = True) -> list[dict]:
    """Instances of this cell as rows, filtered, sorted and after the marker values as
    instance_list's; ``detail`` adds the flavor, metadata, user data, network info,
    latest fault, tags and attached volumes."""
    filters = filters or {}
    names = COLUMNS + DETAIL_COLUMNS if detail else COLUMNS
    q = sa.select(*(getattr(m.Instance, n) for n in names))
    if detail:  # the network info cache, tags and volumes in the same statement
        cache = m.InstanceInfoCache
        names += ("network_info", "tags", "volumes_attached")
        q = q.add_columns(cache.network_info, instance_tags.tags_column(),
                          block_devices.volumes_column()).outerjoin(
            cache, cache.instance_uuid == m.Instance.uuid)
    q = instance_paging.listed(q, project_id, filters, instance_paging.normalize(sort),
                               after)
    rows = [dict(zip(names, r)) for r in session.execute(q)]
    for row in rows:
        row["deleted"] = bool(row["deleted"])
        row["locked"] = bool(row["locked"])
        row["cell_name"] = cell_name
    if not detail or not rows:
        return rows
    faults = _faults(session, [r["uuid"] for r in rows
                               if r["vm_state"] in ("error", "deleted")])
    decoded = _Decoded()
    for row in rows:
        uuid = row["uuid"]
        row["flavor"] = _flavor(decoded, row["flavor"])
        row["metadata"] = decoded(row.pop("metadata_json"), {})
        row["system_metadata"] = decoded(row["system_metadata"], {})
        row["fault"] = faults.get(uuid)
        row["tags"] = instance_tags.tags_from_column(session, uuid, row["tags"])
        row["volumes_attached"] = block_devices.volumes_from_column(
            session, uuid, row["volumes_attached"])
    return rows


@reading
def sort_values(session: Session, uuid: str, fields: list[str]) -> Optional[dict]:
    """A live instance's values of these sort fields (a list's marker), or None."""
    row = session.execute(sa.select(*(getattr(m.Instance, f) for f in fields)).where(
        m.Instance.uuid == uuid, m.Instance.deleted == 0)).first()
    return dict(zip(fields, row)) if row is not None else None
