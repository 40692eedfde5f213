"""Column types shared by the API and cell models."""

from sqlalchemy import Text
from sqlalchemy.dialects import mysql

# TEXT holds 64 KiB on MariaDB: too little for a server's user_data (64 KiB of base64,
# Nova's limit) together with the rest of a build request; MEDIUMTEXT holds 16 MiB.
# SQLite's TEXT has no such limit.
MediumText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
