"""Key pairs in the API database (unique per user and name)."""

from __future__ import annotations

from typing import Optional

import sqlalchemy as sa
from sqlalchemy import exc
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import api_models as m
from nova_lite.db.engine import reading, transactional
from nova_lite.objects.keypair import KeyPair


def _to_obj(row: m.KeyPair) -> KeyPair:
    return KeyPair(id=row.id, name=row.name, user_id=row.user_id,
                   fingerprint=row.fingerprint, public_key=row.public_key, type=row.type,
                   created_at=row.created_at, updated_at=row.updated_at)


def add_keypair(session: Session, values: dict) -> KeyPair:
    """Insert in the caller's transaction; KeyPairExists when the user has that name."""
    exists = sa.select(m.KeyPair.id).where(m.KeyPair.user_id == values["user_id"],
                                           m.KeyPair.name == values["name"])
    if session.scalars(exists).first() is not None:
        raise exception.KeyPairExists(key_name=values["name"])
    row = m.KeyPair(**values)
    session.add(row)
    try:
        session.flush()
    except exc.IntegrityError:  # created concurrently by another request
        raise exception.KeyPairExists(key_name=values["name"]) from None
    return _to_obj(row)


@reading
def keypair_get(session: Session, user_id: str, name: str) -> KeyPair:
    row = session.scalars(sa.select(m.KeyPair).where(m.KeyPair.user_id == user_id,
                                                     m.KeyPair.name == name)).first()
    if row is None:
        raise exception.KeypairNotFound(user_id=user_id, name=name)
    return _to_obj(row)


@reading
def keypair_list(session: Session, user_id: str, limit: Optional[int] = None,
                 marker: Optional[str] = None) -> list[KeyPair]:
    """A user's key pairs by name; after ``marker`` (a name) when given."""
    q = sa.select(m.KeyPair).where(m.KeyPair.user_id == user_id)
    if marker is not None:
        if session.scalars(q.where(m.KeyPair.name == marker)).first() is None:
            raise exception.Invalid(message=f"Marker {marker} could not be found.")
        q = q.where(m.KeyPair.name > marker)
    q = q.order_by(m.KeyPair.name)
    if limit is not None:
        q = q.limit(limit)
    return [_to_obj(r) for r in session.scalars(q)]


@transactional
def keypair_delete(session: Session, user_id: str, name: str) -> None:
    res = session.execute(sa.delete(m.KeyPair).where(m.KeyPair.user_id == user_id,
                                                     m.KeyPair.name == name))
    if res.rowcount == 0:
        raise exception.KeypairNotFound(user_id=user_id, name=name)
