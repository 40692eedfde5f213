"""tags.tag compared byte for byte on MariaDB/MySQL

Their default collation ignores case, so a server could not carry tags that differ
only in case ("b" and "B": a duplicate primary key), where SQLite keeps both.

Revision ID: e5b8d2a7c913
Revises: c41d7e9a0b52
Create Date: 2026-12-01 15:00:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = 'e5b8d2a7c913'
down_revision = 'c41d7e9a0b52'
branch_labels = None
depends_on = None

_BINARY = mysql.VARCHAR(80, collation='utf8mb4_bin')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return  # SQLite compares text byte for byte already
    op.alter_column('tags', 'tag', type_=_BINARY, existing_type=sa.String(80),
                    existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return
    op.alter_column('tags', 'tag', type_=sa.String(80), existing_type=_BINARY,
                    existing_nullable=False)
