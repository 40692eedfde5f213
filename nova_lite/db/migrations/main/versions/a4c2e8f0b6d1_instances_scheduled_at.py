"""instances.scheduled_at: the lease of the build attempt that chose the host

A build attempt that stalled past its lease must not move a server's record off the
host its successor claimed; the record keeps the lease of the attempt that wrote its
host, and only a newer one may change it.

Revision ID: a4c2e8f0b6d1
Revises: e5b8d2a7c913
Create Date: 2026-12-02 10:00:00
"""

from alembic import op
import sqlalchemy as sa

revision = 'a4c2e8f0b6d1'
down_revision = 'e5b8d2a7c913'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('instances', schema=None) as batch_op:
        batch_op.drop_column('scheduled_at')
