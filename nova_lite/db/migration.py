"""Schema migrations (alembic) of the API database and of cell databases."""

from __future__ import annotations

import os
from typing import Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from nova_lite.db import engine as db_engine

_HERE = os.path.dirname(os.path.abspath(__file__))


def _config(database: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(_HERE, "migrations", database))
    return cfg


def sync(database: str, url: str, revision: str = "head") -> None:
    """Upgrade the ``api`` or ``main`` schema at url to revision (idempotent)."""
    cfg = _config(database)
    engine = db_engine.get_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_version(database: str, url: str) -> Optional[str]:
    engine = db_engine.get_engine(url)
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_version(database: str) -> str:
    return ScriptDirectory.from_config(_config(database)).get_current_head()


def autogenerate(database: str, url: str, message: str) -> None:
    """Developer helper: write a new revision from the models' differences."""
    cfg = _config(database)
    engine = db_engine.get_engine(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message=message, autogenerate=True)
