"""Block device mappings of instances in a cell database (Nova's block_device_mapping).

Rows are soft-deleted (deleted = id) when a volume is detached or the instance goes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

import sqlalchemy as sa
from oslo_utils import uuidutils
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import main_models as m
from nova_lite.db.engine import JOINED_MAX, transactional
from nova_lite.objects.block_device import BlockDeviceMapping

# What a caller may set; id, uuid, instance_uuid and timestamps are the database's.
WRITABLE = frozenset((
    "source_type", "destination_type", "device_name", "device_type", "disk_bus",
    "boot_index", "guest_format", "volume_id", "snapshot_id", "image_id", "volume_size",
    "volume_type", "delete_on_termination", "no_device", "attachment_id",
    "connection_info", "tag"))


def to_object(row: m.BlockDeviceMapping) -> BlockDeviceMapping:
    values = {name: getattr(row, name) for name in BlockDeviceMapping.fields}
    values["delete_on_termination"] = bool(values["delete_on_termination"])
    values["no_device"] = bool(values["no_device"])
    return BlockDeviceMapping.from_dict(values)


def _live(q: sa.Select) -> sa.Select:
    return q.where(m.BlockDeviceMapping.deleted == 0)


def _checked(values: dict) -> dict:
    unknown = set(values) - WRITABLE
    if unknown:
        raise exception.Invalid(
            message=f"Unknown block device mapping fields: {', '.join(sorted(unknown))}")
    return values


def add(session: Session, instance_uuid: str, values: dict,
        uuid: Optional[str] = None) -> m.BlockDeviceMapping:
    """Insert one mapping within the caller's transaction."""
    row = m.BlockDeviceMapping(uuid=uuid or uuidutils.generate_uuid(),
                               instance_uuid=instance_uuid, **_checked(dict(values)))
    session.add(row)
    session.flush()
    return row


@transactional
def bdm_create(session: Session, instance_uuid: str, values: dict,
               uuid: Optional[str] = None) -> BlockDeviceMapping:
    """A new mapping for the instance; with ``uuid``, an existing live row of that uuid is
    returned unchanged (a replayed create)."""
    if uuid:
        row = session.scalars(_live(sa.select(m.BlockDeviceMapping).where(
            m.BlockDeviceMapping.uuid == uuid))).first()
        if row is not None:
            return to_object(row)
    return to_object(add(session, instance_uuid, values, uuid))


@transactional
def bdm_list(session: Session, instance_uuids: Iterable[str]
             ) -> dict[str, list[BlockDeviceMapping]]:
    """The live mappings of each instance, boot disk first then in creation order."""
    uuids = list(instance_uuids)
    out: dict[str, list[BlockDeviceMapping]] = {u: [] for u in uuids}
    if not uuids:
        return out
    rows = session.scalars(_live(sa.select(m.BlockDeviceMapping).where(
        m.BlockDeviceMapping.instance_uuid.in_(uuids))).order_by(m.BlockDeviceMapping.id))
    for row in rows:
        out[row.instance_uuid].append(to_object(row))
    for bdms in out.values():
        bdms.sort(key=lambda b: (b.boot_index is None or b.boot_index < 0,
                                 b.boot_index or 0))
    return out


def volumes_of(session: Session, instance_uuids: list[str]) -> dict[str, list[dict]]:
    """What server views show of each instance's attached volumes ({"id",
    "delete_on_termination"}, boot disk first), read with the instances themselves in
    the caller's transaction: one query for a whole page of servers."""
    out: dict[str, list[dict]] = {u: [] for u in instance_uuids}
    if not instance_uuids:
        return out
    bdm = m.BlockDeviceMapping
    rows = session.execute(_live(sa.select(
        bdm.instance_uuid, bdm.volume_id, bdm.delete_on_termination, bdm.boot_index)
        .where(bdm.instance_uuid.in_(instance_uuids), bdm.destination_type == "volume",
               bdm.volume_id.isnot(None))).order_by(bdm.id))
    for row in sorted(rows, key=lambda r: _boot_order(r.boot_index)):
        out[row.instance_uuid].append(_attached(row.volume_id, row.delete_on_termination))
    return out


def _boot_order(boot_index: Optional[int]) -> tuple[bool, int]:
    """Boot disk first, then the other bootable ones, then the rest (a stable sort
    keeps each group in the order of the mappings' ids)."""
    return boot_index is None or boot_index < 0, boot_index or 0


def _attached(volume_id: str, delete_on_termination: object) -> dict:
    return {"id": volume_id, "delete_on_termination": bool(delete_on_termination)}


def volumes_column() -> sa.ScalarSelect:
    """volumes_of for one instance as one column of its own row's query: its mappings
    as ``id;boot_index;volume_id;delete_on_termination`` joined by commas."""
    bdm = m.BlockDeviceMapping
    entry = (sa.cast(bdm.id, sa.String) + ";"
             + sa.func.coalesce(sa.cast(bdm.boot_index, sa.String), "") + ";"
             + bdm.volume_id + ";" + sa.cast(bdm.delete_on_termination, sa.String))
    return (_live(sa.select(sa.func.group_concat(entry)).where(
        bdm.instance_uuid == m.Instance.uuid, bdm.destination_type == "volume",
        bdm.volume_id.isnot(None))).scalar_subquery())


def volumes_from_column(session: Session, uuid: str, text: Optional[str]) -> list[dict]:
    """volumes_of's list of volumes_column's ``text`` (read again when the text may
    have been cut short: see engine.JOINED_MAX)."""
    if text is None:
        return []
    if len(text) >= JOINED_MAX:
        return volumes_of(session, [uuid])[uuid]
    by_id = sorted((item.split(";") for item in text.split(",")), key=lambda e: int(e[0]))
    in_order = sorted(by_id, key=lambda e: _boot_order(int(e[1]) if e[1] else None))
    return [_attached(volume_id, dot != "0") for _id, _boot, volume_id, dot in in_order]


@transactional
def bdm_get_by_volume(session: Session, volume_id: str,
                      instance_uuid: Optional[str] = None) -> BlockDeviceMapping:
    """The live mapping of a volume (on that instance); VolumeBDMNotFound otherwise."""
    q = _live(sa.select(m.BlockDeviceMapping).where(
        m.BlockDeviceMapping.volume_id == volume_id))
    if instance_uuid is not None:
        q = q.where(m.BlockDeviceMapping.instance_uuid == instance_uuid)
    row = session.scalars(q.order_by(m.BlockDeviceMapping.id.desc())).first()
    if row is None:
        raise exception.VolumeBDMNotFound(volume_id=volume_id)
    return to_object(row)


@transactional
def bdm_update(session: Session, bdm_uuid: str, values: dict) -> BlockDeviceMapping:
    """Change a live mapping's fields; the mapping after (BDMNotFound if none)."""
    row = session.scalars(_live(sa.select(m.BlockDeviceMapping).where(
        m.BlockDeviceMapping.uuid == bdm_uuid)).with_for_update()).first()
    if row is None:
        raise exception.BDMNotFound(id=bdm_uuid)
    for key, value in _checked(dict(values)).items():
        setattr(row, key, value)
    session.flush()
    return to_object(row)


@transactional
def bdm_destroy(session: Session, bdm_uuid: str) -> bool:
    """Soft-delete a mapping; False if there was no live one."""
    res = session.execute(sa.update(m.BlockDeviceMapping).where(
        m.BlockDeviceMapping.uuid == bdm_uuid, m.BlockDeviceMapping.deleted == 0)
        .values(deleted=m.BlockDeviceMapping.id, deleted_at=datetime.utcnow()))
    return res.rowcount > 0


def destroy_of_instance(session: Session, instance_uuid: str) -> None:
    """Soft-delete every mapping of an instance, within the caller's transaction."""
    session.execute(sa.update(m.BlockDeviceMapping).where(
        m.BlockDeviceMapping.instance_uuid == instance_uuid,
        m.BlockDeviceMapping.deleted == 0)
        .values(deleted=m.BlockDeviceMapping.id, deleted_at=datetime.utcnow()))
