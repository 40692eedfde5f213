"""Quota limits, the per-project quota lock and pending usage, in the API database.

Functions take an open Session so the quota engine can run the lock, the limit reads,
the counting and the caller's record of new usage in one transaction.
"""

from __future__ import annotations

import json
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite.db import api_models as m

DEFAULT_CLASS = "default"


# Every boot's quota check runs these: built once (building costs more than running).
_PROJECT_LOCK = (sa.select(m.QuotaLock.project_id)
                 .where(m.QuotaLock.project_id == sa.bindparam("project_id"))
                 .with_for_update())
_LIMIT_PARTS = (
    sa.select(sa.literal(0).label("src"), m.QuotaClass.resource, m.QuotaClass.hard_limit)
    .where(m.QuotaClass.class_name == DEFAULT_CLASS),
    sa.select(sa.literal(1), m.Quota.resource, m.Quota.hard_limit)
    .where(m.Quota.project_id == sa.bindparam("project_id")))
_CLASS_AND_PROJECT_LIMITS = sa.union_all(*_LIMIT_PARTS)
_ALL_LIMITS = sa.union_all(*_LIMIT_PARTS, sa.select(
    sa.literal(2), m.ProjectUserQuota.resource, m.ProjectUserQuota.hard_limit).where(
    m.ProjectUserQuota.project_id == sa.bindparam("project_id"),
    m.ProjectUserQuota.user_id == sa.bindparam("user_id")))


def lock_project(session: Session, project_id: str) -> None:
    """Hold the project's quota lock until the transaction ends.

    SELECT ... FOR UPDATE on an existing row; the first time, INSERT it (two first-timers
    racing: the loser gets a duplicate-key error and its transaction is replayed by
    run_in_transaction, which then finds and locks the row)."""
    if session.connection().scalar(_PROJECT_LOCK, {"project_id": project_id}) is None:
        session.add(m.QuotaLock(project_id=project_id))
        session.flush()


def _limits(session: Session, model: type, **where: str) -> dict[str, int]:
    q = sa.select(model.resource, model.hard_limit)
    for column, value in where.items():
        q = q.where(getattr(model, column) == value)
    return {r: limit for r, limit in session.execute(q)}


def class_limits(session: Session, class_name: str = DEFAULT_CLASS) -> dict[str, int]:
    return _limits(session, m.QuotaClass, class_name=class_name)


def all_limits(session: Session, project_id: str, user_id: Optional[str]
               ) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """(default class, project, user) limits in one round trip."""
    out: tuple[dict, dict, dict] = ({}, {}, {})
    statement = _ALL_LIMITS if user_id else _CLASS_AND_PROJECT_LIMITS
    for src, resource, limit in session.connection().execute(
            statement, {"project_id": project_id, "user_id": user_id}):
        out[int(src)][resource] = limit
    return out


def _upsert(session: Session, model: type, values: dict[str, int], **key: str) -> None:
    for resource, limit in values.items():
        row = session.scalars(sa.select(model).filter_by(resource=resource, **key)).first()
        if row is None:
            session.add(model(resource=resource, hard_limit=limit, **key))
        else:
            row.hard_limit = limit


def set_class_limits(session: Session, class_name: str, values: dict[str, int]) -> None:
    _upsert(session, m.QuotaClass, values, class_name=class_name)


def set_project_limits(session: Session, project_id: str, values: dict[str, int]) -> None:
    _upsert(session, m.Quota, values, project_id=project_id)


def set_user_limits(session: Session, project_id: str, user_id: str,
                    values: dict[str, int]) -> None:
    _upsert(session, m.ProjectUserQuota, values, project_id=project_id, user_id=user_id)


def delete_limits(session: Session, project_id: str, user_id: Optional[str] = None) -> None:
    """Back to defaults: a user's own limits, or the project's and all its users'."""
    q = sa.delete(m.ProjectUserQuota).where(m.ProjectUserQuota.project_id == project_id)
    if user_id is not None:
        session.execute(q.where(m.ProjectUserQuota.user_id == user_id))
        return
    session.execute(q)
    session.execute(sa.delete(m.Quota).where(m.Quota.project_id == project_id))


# A build request's instance is written once, with the request: what it counts for
# (user, vcpus, memory_mb) is decoded from it once per process, not at every quota check
# of its project while it waits (a burst's checks each read every pending request).
_PENDING_COUNTS: dict[str, tuple] = {}
_PENDING_COUNTS_MAX = 50000


def pending_instances(session: Session, project_id: str) -> dict[str, tuple]:
    """Build requests of a project: {uuid: (user_id, vcpus, memory_mb)}."""
    br = m.BuildRequest
    out: dict[str, tuple] = {}
    missing = []
    for uuid in session.scalars(sa.select(br.instance_uuid).where(
            br.project_id == project_id)):
        counts = _PENDING_COUNTS.get(uuid)
        if counts is None:
            missing.append(uuid)
        else:
            out[uuid] = counts
    if missing:
        decoded = {}
        for uuid, blob in session.execute(sa.select(br.instance_uuid, br.instance).where(
                br.instance_uuid.in_(missing))):
            data = json.loads(blob).get("nova_lite_object.data", {})
            decoded[uuid] = (data.get("user_id"), int(data.get("vcpus") or 0),
                             int(data.get("memory_mb") or 0))
        out.update(decoded)
        if len(_PENDING_COUNTS) + len(decoded) > _PENDING_COUNTS_MAX:
            _PENDING_COUNTS.clear()
        _PENDING_COUNTS.update(decoded)
    return out


def keypair_count(session: Session, user_id: str) -> int:
    return session.scalar(sa.select(sa.func.count(m.KeyPair.id)).where(
        m.KeyPair.user_id == user_id)) or 0
