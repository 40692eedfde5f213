"""Migration records (Nova's ``migrations`` table) in a cell database: the moves of
instances between compute nodes, whatever their kind (resize, cold or live migration,
evacuation)."""

from __future__ import annotations

import uuid as uuidlib
from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import instances as inst_db
from nova_lite.db import main_models as m
from nova_lite.db.engine import reading, transactional
from nova_lite.objects.instance import Instance
from nova_lite.objects.migration import FINAL_STATUSES, Migration

_FIELDS = tuple(Migration.fields)
_WRITABLE = frozenset(_FIELDS) - {"id", "uuid", "instance_uuid", "created_at", "updated_at",
                                   "deleted", "deleted_at"}


def _to_obj(row: m.Migration) -> Migration:
    mig = Migration()
    for name in _FIELDS:
        value = getattr(row, name)
        if name == "deleted":
            value = bool(value)
        setattr(mig, name, value)
    mig.obj_reset_changes()
    return mig


@transactional
def migration_create(session: Session, values: dict) -> Migration:
    """A new record; ``values`` holds instance_uuid, migration_type, status and any of
    the other columns."""
    bad = set(values) - _WRITABLE - {"instance_uuid", "uuid"}
    if bad:
        raise exception.Invalid(reason=f"unknown migration fields {sorted(bad)}")
    row = m.Migration(uuid=values.get("uuid") or str(uuidlib.uuid4()),
                      **{k: v for k, v in values.items() if k != "uuid"})
    session.add(row)
    session.flush()
    return _to_obj(row)


def _row(session: Session, uuid: str, for_update: bool = False) -> m.Migration:
    q = sa.select(m.Migration).where(m.Migration.uuid == uuid, m.Migration.deleted == 0)
    if for_update:
        q = q.with_for_update()
    row = session.scalars(q).first()
    if row is None:
        raise exception.MigrationNotFound(migration_id=uuid)
    return row


@transactional
def migration_get(session: Session, uuid: str) -> Migration:
    return _to_obj(_row(session, uuid))


@transactional
def migration_update(session: Session, uuid: str, values: dict,
                     expected_status: Any = None) -> Migration:
    """Update a record; with expected_status (a status or a list), only if it still has
    it — the guard that lets exactly one of two racing steps move a migration on."""
    row = _row(session, uuid, for_update=True)
    if expected_status is not None:
        allowed = (expected_status if isinstance(expected_status, (list, tuple, set))
                   else [expected_status])
        if row.status not in allowed:
            raise exception.MigrationInvalidState(migration_id=uuid, status=row.status)
    bad = set(values) - _WRITABLE
    if bad:
        raise exception.Invalid(reason=f"cannot update migration fields {sorted(bad)}")
    for k, v in values.items():
        setattr(row, k, v)
    session.flush()
    return _to_obj(row)


def moves_left_by_in(session: Session, instance_uuid: str) -> list[str]:
    """The migrations whose claims a deleted server leaves (in the caller's
    transaction): its unfinished moves, and its done evacuations (their dead source has
    not come back to drop its claim)."""
    mig = m.Migration
    return list(session.scalars(sa.select(mig.uuid).where(
        mig.deleted == 0, mig.instance_uuid == instance_uuid,
        sa.or_(mig.status.not_in(list(FINAL_STATUSES)),
               sa.and_(mig.status == "done", mig.migration_type == "evacuation"))
    ).order_by(mig.id)))


moves_left_by = reading(moves_left_by_in)


@transactional
def migrations_end(session: Session, uuids: list[str]) -> None:
    """Moves of a deleted server end in error (after their claims went)."""
    session.execute(sa.update(m.Migration).where(m.Migration.uuid.in_(uuids)).values(
        status="error"), execution_options={"synchronize_session": False})


@transactional
def migration_list(session: Session, instance_uuid: Optional[str] = None,
                   host: Optional[str] = None, status: Any = None,
                   in_progress: Optional[bool] = None, migration_type: Optional[str] = None,
                   updated_before: Optional[datetime] = None,
                   limit: Optional[int] = None, source_compute: Optional[str] = None,
                   user_id: Optional[str] = None, project_id: Optional[str] = None,
                   changed_since: Optional[datetime] = None,
                   changed_before: Optional[datetime] = None,
                   hidden: Optional[bool] = None) -> list[Migration]:
    """Records matching every filter given, newest first. ``host`` matches the source
    or the destination compute; ``in_progress`` selects moves that are (not) final;
    ``changed_since``/``changed_before`` bound the last change inclusively (naive UTC)."""
    q = sa.select(m.Migration).where(m.Migration.deleted == 0)
    changed = sa.func.coalesce(m.Migration.updated_at, m.Migration.created_at)
    for column, value in ((m.Migration.source_compute, source_compute),
                          (m.Migration.user_id, user_id),
                          (m.Migration.project_id, project_id),
                          (m.Migration.hidden, hidden)):
        if value is not None:
            q = q.where(column == value)
    if changed_since is not None:
        q = q.where(changed >= changed_since)
    if changed_before is not None:
        q = q.where(changed <= changed_before)
    if instance_uuid is not None:
        q = q.where(m.Migration.instance_uuid == instance_uuid)
    if host is not None:
        q = q.where(sa.or_(m.Migration.source_compute == host,
                           m.Migration.dest_compute == host))
    if status is not None:
        statuses = status if isinstance(status, (list, tuple, set)) else [status]
        q = q.where(m.Migration.status.in_(list(statuses)))
    if in_progress is True:
        q = q.where(m.Migration.status.not_in(list(FINAL_STATUSES)))
    elif in_progress is False:
        q = q.where(m.Migration.status.in_(list(FINAL_STATUSES)))
    if migration_type is not None:
        q = q.where(m.Migration.migration_type == migration_type)
    if updated_before is not None:
        q = q.where(changed < updated_before)
    q = q.order_by(m.Migration.created_at.desc(), m.Migration.id.desc())
    if limit:
        q = q.limit(limit)
    return [_to_obj(r) for r in session.scalars(q)]


@transactional
def advance(session: Session, instance_uuid: str, instance_values: dict,
            expected_task_state: Any, migration_uuid: str, migration_values: dict,
            expected_status: Any, cell_name: Optional[str] = None) -> Instance:
    """One step of a move: the instance and its migration record change together, in
    one transaction, and only if both still are where the step expects them."""
    migration_update.__wrapped__(session, migration_uuid, migration_values,
                                 expected_status)
    return inst_db.instance_update.__wrapped__(session, instance_uuid, instance_values,
                                               expected_task_state, cell_name)
