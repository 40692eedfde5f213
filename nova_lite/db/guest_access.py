"""What guests and their users reach an instance with, in a cell database: the guest's
password (in the instance's system metadata, as Nova keeps it) and console tokens
(stored hashed)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from nova_lite import exception
from nova_lite.db import main_models as m
from nova_lite.db.engine import transactional

PASSWORD_KEY = "password"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transactional
def password_set(session: Session, uuid: str, password: str, only_if_empty: bool) -> None:
    """Store (or with "" clear) the guest's password; with only_if_empty, a password
    already there is a Conflict (the guest posts it once)."""
    row = session.scalars(sa.select(m.Instance).where(
        m.Instance.uuid == uuid, m.Instance.deleted == 0).with_for_update()).first()
    if row is None:
        raise exception.InstanceNotFound(instance_id=uuid)
    sysmeta = json.loads(row.system_metadata or "{}")
    if sysmeta.get(PASSWORD_KEY) and only_if_empty:
        raise exception.Conflict(message="The instance's password is already set.")
    if password:
        sysmeta[PASSWORD_KEY] = password
    else:
        sysmeta.pop(PASSWORD_KEY, None)
    row.system_metadata = json.dumps(sysmeta)


@transactional
def console_token_create(session: Session, token: str, console_type: str, host: str,
                         port: int, internal_access_path: Optional[str], instance_uuid: str,
                         ttl: int, access_url_base: Optional[str]) -> int:
    """Record a token; returns its expiry (epoch seconds). Expired tokens go first."""
    now = int(time.time())
    session.execute(sa.delete(m.ConsoleAuthToken).where(m.ConsoleAuthToken.expires <= now))
    expires = now + ttl
    session.add(m.ConsoleAuthToken(
        token_hash=token_hash(token), console_type=console_type, host=host, port=port,
        internal_access_path=internal_access_path, instance_uuid=instance_uuid,
        expires=expires, access_url_base=access_url_base))
    return expires


@transactional
def console_token_get(session: Session, token: str) -> Optional[dict]:
    """The connection a live token leads to, or None (unknown or expired)."""
    row = session.scalars(sa.select(m.ConsoleAuthToken).where(
        m.ConsoleAuthToken.token_hash == token_hash(token),
        m.ConsoleAuthToken.expires > int(time.time()))).first()
    if row is None:
        return None
    return {"instance_uuid": row.instance_uuid, "console_type": row.console_type,
            "host": row.host, "port": row.port,
            "internal_access_path": row.internal_access_path, "expires": row.expires,
            "access_url_base": row.access_url_base}


def console_tokens_delete_in(session: Session, instance_uuid: str) -> int:
    """A deleted server's tokens go, in the caller's transaction (its record's)."""
    res = session.execute(sa.delete(m.ConsoleAuthToken).where(
        m.ConsoleAuthToken.instance_uuid == instance_uuid))
    return res.rowcount
