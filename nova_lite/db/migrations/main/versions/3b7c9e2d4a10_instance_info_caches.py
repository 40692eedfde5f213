"""instance info caches

Revision ID: 3b7c9e2d4a10
Revises: b0f57bfcf31d
Create Date: 2026-11-30 06:40:00
"""

from alembic import op
import sqlalchemy as sa

from nova_lite.db.types import MediumText


revision = '3b7c9e2d4a10'
down_revision = 'b0f57bfcf31d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instance_info_caches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('network_info', MediumText, nullable=True),
    sa.Column('network_request', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_uuid')
    )
