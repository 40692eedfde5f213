"""Column types shared by the API and cell models."""

from sqlalchemy import String, Text
from sqlalchemy.types import TypeEngine
from sqlalchemy.dialects import mysql

# TEXT holds 64 KiB on MariaDB: too little for a server's user_data (64 KiB of base64,
# Nova's limit) together with the rest of a build request; MEDIUMTEXT holds 16 MiB.
# SQLite's TEXT has no such limit.
MediumText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def case_sensitive_string(length: int) -> TypeEngine:
    """VARCHAR compared byte for byte: MariaDB's default collation ignores case (so "b"
    and "B" would be one key there and two on SQLite)."""
    return String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"),
                                       "mysql", "mariadb")
