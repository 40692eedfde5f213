"""instance_extra: key pairs copied onto their instances

Revision ID: 8a4d0c6e2f17
Revises: 3b7c9e2d4a10
Create Date: 2026-11-30 06:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '8a4d0c6e2f17'
down_revision = '3b7c9e2d4a10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('instance_extra',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('keypairs', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('instance_uuid')
    )


def downgrade() -> None:
    op.drop_table('instance_extra')
