"""Fresh databases for the DB tests, on both backends nova_lite supports.

Every test that uses ``backend`` runs twice: on a SQLite file in its tmp_path and on a
throwaway MariaDB database (nl_test_<random>) dropped at teardown. The MariaDB variant
is skipped when 127.0.0.1:3306 does not answer. Migrated MariaDB databases are made
once per run and emptied before each test, which is as good as fresh and much faster.
"""

from __future__ import annotations

import functools
import uuid
from typing import Callable, Iterator

import pymysql
import pytest
import sqlalchemy as sa

from nova_lite.db import api_models, bootstrap, main_models
from nova_lite.db import cells as cells_db
from nova_lite.db import engine as db_engine

MYSQL = dict(host="127.0.0.1", port=3306, user="root", password="")


@functools.cache
def mariadb_error() -> str | None:
    """None if MariaDB answers as root, else why not."""
    try:
        pymysql.connect(connect_timeout=2, **MYSQL).close()
    except Exception as err:  # refused, timed out, access denied, ...
        return f"MariaDB is not reachable on 127.0.0.1:3306 as root ({err})"
    return None


def dispose(url: str) -> None:
    """Close and forget the cached engine of url (before its database is dropped)."""
    with db_engine._lock:
        eng = db_engine._engines.pop(url, None)
        db_engine._makers.pop(url, None)
    if eng is not None:
        eng.dispose()


def drop_mysql_database(name: str) -> None:
    conn = pymysql.connect(connect_timeout=5, **MYSQL)
    try:
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        conn.close()


@pytest.fixture(params=["sqlite", "mariadb"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "mariadb" and mariadb_error():
        pytest.skip(mariadb_error())
    return request.param


@pytest.fixture
def make_db(backend: str, tmp_path) -> Iterator[Callable[[str], str]]:
    """make_db(label) -> URL of a new, empty database on this test's backend."""
    made: list[tuple[str, str]] = []

    def _make(label: str = "db") -> str:
        name = f"nl_test_{uuid.uuid4().hex[:12]}_{label}"
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path / name}.db"
        else:
            url = f"mysql+pymysql://root@127.0.0.1/{name}?charset=utf8mb4"
            bootstrap.ensure_database(url)
        made.append((url, name))
        return url

    yield _make
    for url, name in made:
        dispose(url)
        if backend == "mariadb":
            drop_mysql_database(name)


@pytest.fixture
def db_url(make_db: Callable[[str], str]) -> str:
    """A fresh, empty database (no schema)."""
    return make_db("db")


_METADATA = {"api": api_models.ApiBase.metadata, "main": main_models.MainBase.metadata}


@pytest.fixture(scope="session")
def _mariadb_migrated() -> Iterator[dict[tuple[str, int], str]]:
    """MariaDB databases migrated once per run and emptied for each test that uses them
    (migrating a new MariaDB database for every test would cost ~1 s each)."""
    pool: dict[tuple[str, int], str] = {}
    yield pool
    for url in pool.values():
        dispose(url)
        drop_mysql_database(sa.engine.make_url(url).database)


def _empty(url: str, schema: str) -> None:
    with db_engine.session_scope(url) as session:
        for table in reversed(_METADATA[schema].sorted_tables):
            session.execute(table.delete())


def make_db_session(label: str) -> str:
    """A MariaDB database that lives for the whole run (dropped by _mariadb_migrated)."""
    url = (f"mysql+pymysql://root@127.0.0.1/nl_test_{uuid.uuid4().hex[:12]}_{label}"
           "?charset=utf8mb4")
    bootstrap.ensure_database(url)
    return url


@pytest.fixture
def migrated_db(backend: str, make_db: Callable[[str], str],
                _mariadb_migrated: dict[tuple[str, int], str]) -> Callable[[str], str]:
    """migrated_db(schema) -> URL of an empty database at head ("api" or "main"); each
    call in a test gives another database."""
    used: dict[str, int] = {}

    def _get(schema: str) -> str:
        n = used[schema] = used.get(schema, -1) + 1
        if backend == "sqlite":
            url = make_db(schema)
            bootstrap.sync(schema, url)
            return url
        url = _mariadb_migrated.get((schema, n))
        if url is None:
            url = _mariadb_migrated[(schema, n)] = make_db_session(schema)
            bootstrap.sync(schema, url)
        else:
            _empty(url, schema)
        return url

    return _get


@pytest.fixture
def api_url(migrated_db: Callable[[str], str]) -> str:
    """An API database at head, with no rows."""
    return migrated_db("api")


@pytest.fixture
def cell_url(migrated_db: Callable[[str], str]) -> str:
    """A cell (main) database at head, with no rows."""
    return migrated_db("main")


@pytest.fixture
def mapped_cells(api_url: str, migrated_db: Callable[[str], str]) -> dict:
    """cell0 mapped and one cell, "cell1", created: their URLs and cell1's uuid."""
    cell0, cell1 = migrated_db("main"), migrated_db("main")
    bootstrap.map_cell0(api_url, cell0)
    c1 = cells_db.cell_create(api_url, "cell1", "rabbit://h/", cell1)
    return {"cell0": cell0, "cell1": cell1, "cell1_uuid": c1["uuid"]}
