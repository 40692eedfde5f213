"""A busy pooled MariaDB connection costs no ping and no rollback per transaction, and
a connection idle long enough, or killed by the server, is still checked and replaced."""

from __future__ import annotations

import time

import pymysql
import pytest
import sqlalchemy as sa

from nova_lite.db import engine as db_engine

from .conftest import MYSQL


def _counters(url: str) -> dict[str, int]:
    """The session's own rollback and admin-command (COM_PING) counts, and its id."""
    def read(session):
        rows = session.execute(sa.text(
            "SHOW SESSION STATUS WHERE Variable_name IN "
            "('Com_rollback', 'Com_admin_commands')")).all()
        out = {name.lower(): int(value) for name, value in rows}
        out["id"] = session.execute(sa.text("SELECT CONNECTION_ID()")).scalar()
        return out
    return db_engine.run_in_transaction(url, read)


@pytest.fixture
def mariadb_url(make_db, backend):
    if backend != "mariadb":
        pytest.skip("not applicable: the pool checks are those of a server database")
    return make_db("pool")


def test_busy_connection_neither_pinged_nor_rolled_back(mariadb_url):
    before = _counters(mariadb_url)
    for _ in range(5):
        db_engine.run_in_transaction(
            mariadb_url, lambda s: s.execute(sa.text("SELECT 1")).scalar())
    after = _counters(mariadb_url)
    assert after["id"] == before["id"]  # one pooled connection throughout
    assert after["com_rollback"] == before["com_rollback"]
    assert after["com_admin_commands"] == before["com_admin_commands"]


def test_transaction_left_open_is_rolled_back_on_return(mariadb_url):
    db_engine.run_in_transaction(mariadb_url, lambda s: s.execute(sa.text(
        "CREATE TABLE t (v INT) ENGINE=InnoDB")))
    with db_engine.get_engine(mariadb_url).connect() as conn:
        # A write the Connection does not know of, left uncommitted on return.
        conn.connection.dbapi_connection.cursor().execute("INSERT INTO t VALUES (1)")
    # The next transaction on the same pooled connection commits only its own write.
    db_engine.run_in_transaction(mariadb_url, lambda s: s.execute(sa.text(
        "INSERT INTO t VALUES (2)")))
    assert db_engine.run_in_transaction(mariadb_url, lambda s: s.execute(sa.text(
        "SELECT v FROM t")).scalars().all()) == [2]


def test_idle_connection_pinged_and_a_dead_one_replaced(mariadb_url, monkeypatch):
    first = _counters(mariadb_url)
    monkeypatch.setattr(db_engine, "IDLE_PING_AFTER", 0.05)
    time.sleep(0.1)
    second = _counters(mariadb_url)
    assert second["id"] == first["id"]
    assert second["com_admin_commands"] > first["com_admin_commands"]  # pinged
    killer = pymysql.connect(**MYSQL)
    try:
        killer.cursor().execute(f"KILL {second['id']}")
    finally:
        killer.close()
    time.sleep(0.1)
    third = _counters(mariadb_url)  # no error: the ping saw it dead, a new one answers
    assert third["id"] != second["id"]
