"""build requests and request specs in MEDIUMTEXT

A build request holds the whole server, user_data (up to 64 KiB) included, which does
not fit MariaDB's TEXT.

Revision ID: bc5bd2c5b730
Revises: a3cf01d330ed
Create Date: 2026-11-30 06:40:00
"""

from alembic import op
import sqlalchemy as sa

from nova_lite.db.types import MediumText

revision = 'bc5bd2c5b730'
down_revision = 'a3cf01d330ed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return  # SQLite's TEXT has no size limit
    op.alter_column('build_requests', 'instance', type_=MediumText,
                    existing_type=sa.Text(), existing_nullable=False)
    op.alter_column('request_specs', 'spec', type_=MediumText,
                    existing_type=sa.Text(), existing_nullable=False)
