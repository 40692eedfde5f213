"""server tags and pinned availability zone

Revision ID: d8470031bb44
Revises: f96341e90eed
Create Date: 2026-11-30 06:16:19.919002
"""

from alembic import op
import sqlalchemy as sa


revision = 'd8470031bb44'
down_revision = 'f96341e90eed'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('tags',
    sa.Column('resource_id', sa.String(length=36), nullable=False),
    sa.Column('tag', sa.String(length=80), nullable=False),
    sa.PrimaryKeyConstraint('resource_id', 'tag')
    )
    with op.batch_alter_table('tags', schema=None) as batch_op:
        batch_op.create_index('tags_tag_idx', ['tag'], unique=False)

    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pinned_availability_zone', sa.String(length=255), nullable=True))

