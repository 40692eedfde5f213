"""user_data, metadata, fault details and tracebacks in MEDIUMTEXT

Nova accepts 64 KiB of base64 user_data; MariaDB's TEXT holds 64 KiB in all, so the
largest accepted values (and long tracebacks) must not depend on luck.

Revision ID: b0f57bfcf31d
Revises: 5c2e9a41d7b3
Create Date: 2026-11-30 06:40:00
"""

from alembic import op
import sqlalchemy as sa

from nova_lite.db.types import MediumText

revision = 'b0f57bfcf31d'
down_revision = '5c2e9a41d7b3'
branch_labels = None
depends_on = None

_COLUMNS = (('instances', 'user_data', True), ('instances', 'metadata_json', False),
            ('instance_faults', 'details', True),
            ('instance_actions_events', 'traceback', True))


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return  # SQLite's TEXT has no size limit
    for table, column, nullable in _COLUMNS:
        op.alter_column(table, column, type_=MediumText, existing_type=sa.Text(),
                        existing_nullable=nullable)
