"""A busy pooled MariaDB connection costs no ping and no rollback per transaction, and
a connection idle long enough, or killed by the server, is still checked and replaced;
every connection, the start-up's first included, gets the same session settings, and
none prepares TLS for a server that does not offer it."""

from __future__ import annotations

import time

import pymysql
import pytest
import sqlalchemy as sa
from pymysql.constants import CLIENT

from nova_lite.db import engine as db_engine

from .conftest import MYSQL, dispose


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


def test_start_up_connection_has_the_session_settings_of_every_other(mariadb_url,
                                                                     monkeypatch):
    """A service's start waits for its database with one connection, which then stays
    in the pool: it reads committed rows as every later one does (claims rely on it)."""
    from nova_lite.conf import CONF

    dispose(mariadb_url)
    monkeypatch.setattr(db_engine, "_group_for", lambda url: CONF.database)
    engine = db_engine.get_engine(mariadb_url, wait=True)
    assert engine.pool.checkedin() == 1  # the start-up's connection, pooled
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT @@tx_isolation").scalar() == "READ-COMMITTED"


def test_tls_prepared_only_for_a_server_offering_it(mariadb_url):
    """PyMySQL builds a TLS context (loading the CA store) for each new connection in
    case the server offers TLS; once one connection shows it does not, later ones skip
    it, and a server that offers TLS keeps it."""
    dispose(mariadb_url)
    engine = db_engine.get_engine(mariadb_url)
    with engine.connect() as first, engine.connect() as second:
        offers = bool(first.connection.dbapi_connection.server_capabilities & CLIENT.SSL)
        assert second.connection.dbapi_connection.ssl is offers
        assert second.exec_driver_sql("SELECT 1").scalar() == 1


def test_start_up_waits_max_retries_for_the_database(monkeypatch):
    """[database] max_retries attempts retry_interval apart, as oslo.db counts them (-1
    without end, 0 none); the last failure is raised."""
    from oslo_db import exception as db_exc

    class Engine:
        url = sa.engine.make_url("mysql+pymysql://root@127.0.0.1/starting")

        def __init__(self, fails: int) -> None:
            self.fails, self.attempts = fails, 0

        def connect(self):
            self.attempts += 1
            if self.attempts <= self.fails:
                raise db_exc.DBConnectionError("refused")
            return sa.create_engine("sqlite://").connect()

    sleeps: list[float] = []
    monkeypatch.setattr(db_engine.time, "sleep", sleeps.append)
    starting = Engine(fails=2)
    db_engine._first_connection(starting, 5, 0.5)
    assert starting.attempts == 3 and sleeps == [0.5, 0.5]
    down = Engine(fails=99)
    with pytest.raises(db_exc.DBConnectionError):
        db_engine._first_connection(down, 3, 0.5)
    assert down.attempts == 3
    endless = Engine(fails=20)
    db_engine._first_connection(endless, -1, 0.1)
    assert endless.attempts == 21
    never = Engine(fails=0)
    db_engine._first_connection(never, 0, 0.1)
    assert never.attempts == 0


def test_datetimes_read_as_pymysql_reads_them(mariadb_url):
    """The C reader of DATETIME text gives PyMySQL's values, fractions and the zero
    date (text) included."""
    db_engine.run_in_transaction(mariadb_url, lambda s: None)  # the database exists
    with pymysql.connect(**MYSQL, database=sa.make_url(mariadb_url).database,
                         autocommit=True) as conn:
        cur = conn.cursor()
        cur.execute("SET SESSION sql_mode = ''")  # lets the zero date in
        cur.execute("CREATE TABLE times (n INT, plain DATETIME NULL, fine DATETIME(6) NULL, "
                    "milli DATETIME(3) NULL)")
        cur.execute("INSERT INTO times VALUES "
                    "(1, '2026-12-01 16:05:00', '2026-12-01 16:05:00.123456', "
                    "'2026-12-01 16:05:00.5'), "
                    "(2, '0001-01-01 00:00:00', '9999-12-31 23:59:59.999999', NULL), "
                    "(3, NULL, NULL, '2026-02-28 23:59:59.999'), "
                    "(4, '0000-00-00 00:00:00', NULL, NULL)")
        cur.execute("SELECT plain, fine, milli FROM times ORDER BY n")
        expected = [tuple(r) for r in cur.fetchall()]  # PyMySQL's own converter
    read = db_engine.run_in_transaction(mariadb_url, lambda s: [tuple(r) for r in s.execute(
        sa.text("SELECT plain, fine, milli FROM times ORDER BY n"))])
    assert read == expected
    assert read[0][1].microsecond == 123456 and read[0][2].microsecond == 500000
    assert read[3][0] == "0000-00-00 00:00:00"
    conn = db_engine.get_engine(mariadb_url).raw_connection()
    try:  # the pool's connections read with the C reader, not PyMySQL's
        assert conn.dbapi_connection.decoders[12] is not pymysql.converters.convert_datetime
    finally:
        conn.close()
