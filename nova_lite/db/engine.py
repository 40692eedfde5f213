"""Engines and transactions for the API database and every cell database.

One engine per URL per process (cached), sessions as short transactions. MariaDB
deadlocks and SQLite "database is locked" errors are retried, since both are expected
under concurrent boots and are safe to replay for the short transactions used here.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import random
import threading
import time
from typing import Any, Callable, Iterator, TypeVar

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.orm import Session, sessionmaker

LOG = logging.getLogger(__name__)
_lock = threading.Lock()
_engines: dict[str, sa.Engine] = {}
_makers: dict[str, sessionmaker] = {}

T = TypeVar("T")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _sqlite_begin(conn: Any) -> None:
    # Take the write lock at BEGIN so read-then-write transactions serialize instead of
    # failing on lock upgrade.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str, pool_size: int = 10, max_overflow: int = 40) -> sa.Engine:
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        if url.startswith("sqlite"):
            path = sa.engine.make_url(url).database
            if path and path != ":memory:":
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            engine = sa.create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30,
                                   "isolation_level": None})
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = sa.create_engine(
                url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True,
                pool_recycle=3600, isolation_level="READ COMMITTED")
        _engines[url] = engine
        _makers[url] = sessionmaker(bind=engine, expire_on_commit=False)
        return engine


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _makers.clear()


def _retriable(err: exc.DBAPIError) -> bool:
    """Deadlocks and lock time-outs, and duplicate keys: the writers here check for an
    existing row first, so a replay after losing a create race finds the winner's row."""
    if isinstance(err, exc.IntegrityError):
        text = str(err.orig)
        return "Duplicate entry" in text or "UNIQUE constraint failed" in text
    text = str(err.orig) if err.orig is not None else str(err)
    return ("Deadlock" in text or "database is locked" in text
            or "Lock wait timeout" in text or "1213" in text[:12])


@contextlib.contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    get_engine(url)
    session = _makers[url]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def run_in_transaction(url: str, fn: Callable[[Session], T], attempts: int = 8) -> T:
    """Run fn(session) in a transaction, replaying it on deadlock/lock errors."""
    for attempt in range(attempts):
        try:
            with session_scope(url) as session:
                return fn(session)
        except exc.DBAPIError as err:
            if attempt == attempts - 1 or not _retriable(err):
                raise
            LOG.debug("retrying transaction after %s", err.orig)
            time.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def transactional(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate ``fn(session, *args)`` into ``fn(url, *args)`` run with retries."""

    @functools.wraps(fn)
    def wrapper(url: str, *args: Any, **kwargs: Any) -> T:
        return run_in_transaction(url, lambda s: fn(s, *args, **kwargs))

    return wrapper
