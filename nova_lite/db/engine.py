"""Engines and transactions for the API database and every cell database.

Engines come from oslo.db (its MySQL session mode, pool sizing, connection checks and
exception translation: DBDeadlock, DBConnectionError, DBDataError, ...), one per URL per
process, with the options of [api_database] for the API database and of [database] for
every cell database (``configure``). Sessions are short transactions. Deadlocks, SQLite
"database is locked" and lost create races are replayed at once; a lost connection is
replayed only with ``use_db_reconnect`` (oslo.db's db_*retry* options), otherwise it
surfaces at once as DatabaseUnavailable, so a caller answers 503 instead of hanging.

A pooled MySQL connection costs no extra round trips per transaction when it is busy:
it is pinged at checkout only after IDLE_PING_AFTER seconds unused (oslo.db pings every
checkout), and rolled back on return only when a transaction is still open (SQLAlchemy
rolls back every return, even after a commit).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import logging
import os
import random
import threading
import time
from typing import Any, Callable, Iterator, Optional, TypeVar

import sqlalchemy as sa
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import engines as oslo_engines
from oslo_db.sqlalchemy import exc_filters
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from nova_lite import exception

LOG = logging.getLogger(__name__)
_lock = threading.Lock()
_engines: dict[str, sa.Engine] = {}
_makers: dict[str, sessionmaker] = {}

# Options per database: set by configure() from [api_database] / [database]; oslo.db's
# defaults until then (tools and tests that only name a URL).
_options: dict[str, Any] = {"api_url": None, "api": None, "cell": None}

T = TypeVar("T")

# Replays of a transaction that hit a deadlock, a lock time-out or a lost create race.
RETRIES = 8

# Seconds a pooled server connection may sit unused and still be trusted without a
# ping: one that died sooner fails its transaction as a connection lost mid-way would.
IDLE_PING_AFTER = 1.0
_USED_AT = "nova_lite_used_at"
_IN_TRANS = 1  # the MySQL protocol's SERVER_STATUS_IN_TRANS flag


def configure(conf: Any) -> None:
    """Use [api_database] options for the API database, [database] for the cells."""
    _options.update(api_url=conf.api_database.connection, api=conf.api_database,
                    cell=conf.database)


def _group_for(url: str) -> Any:
    return _options["api"] if url == _options["api_url"] else _options["cell"]


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


def _sqlite_engine(url: str) -> sa.Engine:
    """SQLite (embedded mode and tests): its own set-up, oslo.db's exception filters."""
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                 "isolation_level": None})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    exc_filters.register_engine(engine)
    return engine


def _server_engine(url: str, group: Any, wait: bool) -> sa.Engine:
    kw: dict[str, Any] = {"mysql_sql_mode": "TRADITIONAL"}
    if group is not None:
        kw = dict(
            mysql_sql_mode=group.mysql_sql_mode,
            mysql_wsrep_sync_wait=group.mysql_wsrep_sync_wait,
            connection_recycle_time=group.connection_recycle_time,
            connection_debug=group.connection_debug,
            connection_trace=group.connection_trace,
            max_pool_size=group.max_pool_size, max_overflow=group.max_overflow,
            pool_timeout=group.pool_timeout,
            connection_parameters=group.connection_parameters)
    # oslo.db's own first connection (its max_retries) would enter the pool before the
    # listeners below are in place: the start-up wait is done here, after them.
    kw["max_retries"] = 0
    engine = oslo_engines.create_engine(url, **kw)
    event.listen(engine, "connect", _read_committed)
    _lazy_pool_checks(engine)
    _tls_as_the_server_offers(engine)
    _datetimes_read_in_c(engine)
    if wait and group is not None:
        # Only a start-up waits for the database; an engine made while serving a
        # request must not block it for max_retries * retry_interval.
        _first_connection(engine, group.max_retries, group.retry_interval)
    return engine


def _first_connection(engine: sa.Engine, max_retries: int, retry_interval: float) -> None:
    """Connect to a database that may still be starting: ``max_retries`` attempts
    (-1: until one works; 0: none, as oslo.db counts them); the connection stays in the
    pool."""
    attempt = 0
    while max_retries:
        try:
            engine.connect().close()
            return
        except db_exc.DBConnectionError:
            attempt += 1
            if max_retries != -1 and attempt >= max_retries:
                raise
            LOG.warning("database %s not reachable yet; %s attempts left",
                        engine.url.database,
                        "unlimited" if max_retries == -1 else max_retries - attempt)
            time.sleep(retry_interval)


def _tls_as_the_server_offers(engine: sa.Engine) -> None:
    """PyMySQL (1.2) prepares TLS for every new connection whose URL names no ssl
    options, in case the server offers it: a TLS context loading the system's CA store,
    tens of ms of CPU each time. Once a connection has shown that the server does not
    offer TLS, the next ones skip that preparation (they would go unencrypted anyway);
    a URL with ssl options, or a server that offers TLS, keeps PyMySQL's behaviour."""
    if engine.dialect.driver != "pymysql":
        return
    from pymysql.constants import CLIENT

    offers: list[bool] = []  # learnt from the first connection

    def do_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict) -> None:
        if offers == [False] and not any(k.startswith("ssl") for k in cparams):
            cparams["ssl_disabled"] = True

    def first(dbapi_conn: Any, _record: Any) -> None:
        if not offers:
            offers.append(bool(getattr(dbapi_conn, "server_capabilities", 0)
                               & CLIENT.SSL))

    event.listen(engine, "do_connect", do_connect)
    event.listen(engine, "connect", first)


def _datetimes_read_in_c(engine: sa.Engine) -> None:
    """PyMySQL reads each DATETIME value with a regular expression and int() calls in
    Python: 5 times per server of a list, a sixth of the CPU that reading a page of
    1,000 servers takes. ``datetime.fromisoformat`` reads MariaDB's text
    (``2026-12-01 16:05:00`` and its fractions) in C; what it cannot read (MySQL's zero
    date) goes to PyMySQL's own converter, which returns it as text."""
    if engine.dialect.driver != "pymysql":
        return
    from pymysql import converters
    from pymysql.constants import FIELD_TYPE

    def read(text: Any) -> Any:
        try:
            return datetime.datetime.fromisoformat(text)
        except (TypeError, ValueError):
            return converters.convert_datetime(text)

    conv = dict(converters.conversions)
    conv[FIELD_TYPE.DATETIME] = conv[FIELD_TYPE.TIMESTAMP] = read

    def do_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict) -> None:
        cparams.setdefault("conv", conv)

    event.listen(engine, "do_connect", do_connect)


def _lazy_pool_checks(engine: sa.Engine) -> None:
    """Ping only connections idle for IDLE_PING_AFTER, reset only those left inside a
    transaction (oslo.db's create_engine does not take the pool's own options)."""
    pool = engine.pool
    if not hasattr(pool, "_pre_ping") or not hasattr(pool, "_reset_on_return"):
        return  # another SQLAlchemy: keep its checks as they are
    pool._pre_ping = False
    pool._reset_on_return = None
    dialect = engine.dialect

    def mark_used(_dbapi_conn: Any, record: Any, *_args: Any) -> None:
        record.info[_USED_AT] = time.monotonic()

    def checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_USED_AT, 0.0) < IDLE_PING_AFTER:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except Exception as err:
            if dialect.is_disconnect(err, dbapi_conn, None):
                # The pool replaces the connection and checks out again.
                raise sa.exc.DisconnectionError(str(err)) from err
            raise

    def reset(dbapi_conn: Any, _record: Any, state: Any) -> None:
        status = getattr(dbapi_conn, "server_status", None)
        if state.transaction_was_reset or (
                isinstance(status, int) and not status & _IN_TRANS):
            return
        dbapi_conn.rollback()

    event.listen(pool, "connect", mark_used)
    event.listen(pool, "checkin", mark_used)
    event.listen(pool, "checkout", checkout)
    event.listen(pool, "reset", reset)


def _read_committed(dbapi_conn: Any, _record: Any) -> None:
    """Claims re-read committed rows inside one transaction (see db/placement.py). Set
    once per new connection: set per checkout (SQLAlchemy's isolation_level option), a
    lost connection would surface as a raw driver error before oslo.db can see it."""
    cur = dbapi_conn.cursor()
    cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    cur.close()


def get_engine(url: str, wait: bool = False) -> sa.Engine:
    """The process's engine for url; ``wait`` (at a service's start) retries the first
    connection [database] max_retries times, retry_interval apart."""
    with _lock:
        engine = _engines.get(url)
        if engine is not None:
            return engine
        if url.startswith("sqlite"):
            engine = _sqlite_engine(url)
        else:
            engine = _server_engine(url, _group_for(url), wait)
        _engines[url] = engine
        _makers[url] = sessionmaker(bind=engine, expire_on_commit=False)
        return engine


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _makers.clear()


def _replay_now(err: Exception) -> bool:
    """Deadlocks, lock time-outs and duplicate keys: the writers here check for an
    existing row first, so a replay after losing a create race finds the winner's row."""
    if isinstance(err, (db_exc.DBDeadlock, db_exc.DBDuplicateEntry)):
        return True
    if isinstance(err, db_exc.DBError):
        text = str(err.inner_exception or err)
        return "database is locked" in text or "Lock wait timeout" in text
    return False


@contextlib.contextmanager
def session_scope(url: str, read_only: bool = False) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error. A
    ``read_only`` one is rolled back once as its connection goes back to the pool: one
    round trip at its end instead of a commit and the pool's rollback."""
    engine = get_engine(url)
    started = time.monotonic()
    if read_only:
        with engine.connect() as conn:
            conn.begin()  # the session joins it and leaves it to the connection's close
            session = _makers[url](bind=conn)
            try:
                yield session
            finally:
                session.close()
        _log_transaction("read", engine, started)
        return
    session = _makers[url]()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    _log_transaction("commit", engine, started)


def _log_transaction(kind: str, engine: sa.Engine, started: float) -> None:
    """One debug line per transaction, so a request's database work can be counted and
    timed from the logs (tools/bench --breakdown)."""
    if LOG.isEnabledFor(logging.DEBUG):
        LOG.debug("%s on %s in %.2f ms", kind, engine.url.database,
                  (time.monotonic() - started) * 1000)


def _reconnect_delays(url: str) -> list[float]:
    """Waits before each replay after a lost connection (none without use_db_reconnect)."""
    group = _group_for(url)
    if group is None or not group.use_db_reconnect:
        return []
    delays, delay = [], float(group.db_retry_interval)
    for _ in range(group.db_max_retries):
        delays.append(delay)
        if group.db_inc_retry_interval:
            delay = min(delay * 2, float(group.db_max_retry_interval))
    return delays


def run_in_transaction(url: str, fn: Callable[[Session], T], attempts: int = RETRIES,
                       read_only: bool = False) -> T:
    """Run fn(session) in a transaction, replaying it on deadlock/lock errors and, with
    use_db_reconnect, after a lost connection; an unreachable database raises
    DatabaseUnavailable. ``read_only``: fn only reads (see session_scope)."""
    reconnects: Optional[list[float]] = None
    attempt = 0
    while True:
        try:
            with session_scope(url, read_only) as session:
                return fn(session)
        except db_exc.DBConnectionError as err:
            if reconnects is None:
                reconnects = _reconnect_delays(url)
            if not reconnects:
                raise exception.DatabaseUnavailable(reason=str(err.inner_exception or err)
                                                    ) from err
            LOG.warning("database connection lost; replaying in %.1f s", reconnects[0])
            time.sleep(reconnects.pop(0))
        except db_exc.DBError as err:
            attempt += 1
            if attempt >= attempts or not _replay_now(err):
                raise
            LOG.debug("retrying transaction after %s", err.inner_exception or err)
            time.sleep(random.uniform(0.005, 0.05) * attempt)


# Text joined in SQL (GROUP_CONCAT) at least this long may have been cut at the
# server's group_concat_max_len (1,024 on MySQL, 1 MiB on MariaDB): its reader reads
# the rows again instead.
JOINED_MAX = 1000


def transactional(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate ``fn(session, *args)`` into ``fn(url, *args)`` run with retries."""

    @functools.wraps(fn)
    def wrapper(url: str, *args: Any, **kwargs: Any) -> T:
        return run_in_transaction(url, lambda s: fn(s, *args, **kwargs))

    return wrapper


def reading(fn: Callable[..., T]) -> Callable[..., T]:
    """As ``transactional``, for a function that only reads: its transaction ends
    without a commit."""

    @functools.wraps(fn)
    def wrapper(url: str, *args: Any, **kwargs: Any) -> T:
        return run_in_transaction(url, lambda s: fn(s, *args, **kwargs), read_only=True)

    return wrapper
