"""Database set-up steps shared by nova-lite-manage and the embedded mode."""

from __future__ import annotations

import os

import sqlalchemy as sa

from nova_lite.db import cells as cells_db
from nova_lite.db import migration


def ensure_database(url: str) -> None:
    """Create a MariaDB/MySQL database named by url if it does not exist yet."""
    parsed = sa.engine.make_url(url)
    if not parsed.drivername.startswith("mysql") or not parsed.database:
        return
    server = sa.create_engine(parsed.set(database=""))
    try:
        with server.begin() as conn:
            conn.exec_driver_sql(
                f"CREATE DATABASE IF NOT EXISTS `{parsed.database}` CHARACTER SET utf8mb4")
    finally:
        server.dispose()


def sync(database: str, url: str) -> None:
    ensure_database(url)
    migration.sync(database, url)


def cell0_url_from(main_url: str) -> str:
    """Nova's default: the main database's name with a _cell0 suffix."""
    parsed = sa.engine.make_url(main_url)
    name = parsed.database or "nova"
    if parsed.drivername.startswith("sqlite"):
        stem, ext = os.path.splitext(name)  # only the file name's extension
        new = f"{stem}_cell0{ext}"
    else:
        new = f"{name}_cell0"
    return parsed.set(database=new).render_as_string(hide_password=False)


def map_cell0(api_url: str, cell0_url: str) -> bool:
    """Create the cell0 mapping; False if it already existed."""
    for cell in cells_db.cell_list(api_url):
        if cell["uuid"] == cells_db.CELL0_UUID:
            return False
    cells_db.cell_create(api_url, "cell0", "none:///", cell0_url, uuid=cells_db.CELL0_UUID)
    return True


def find_cell(api_url: str, transport_url: str, db_url: str) -> dict | None:
    for cell in cells_db.cell_list(api_url):
        if cell["transport_url"] == transport_url and cell["database_connection"] == db_url:
            return cell
    return None
