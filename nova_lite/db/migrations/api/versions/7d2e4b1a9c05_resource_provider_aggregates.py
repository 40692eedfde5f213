"""resource provider aggregates (Placement's member_of), seeded from host aggregates

Revision ID: 7d2e4b1a9c05
Revises: 3f1c2a7b9d40
Create Date: 2026-11-30 10:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = '7d2e4b1a9c05'
down_revision = '3f1c2a7b9d40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resource_provider_aggregates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_provider_id', sa.Integer(), nullable=False),
    sa.Column('aggregate_uuid', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['resource_provider_id'], ['resource_providers.id'],
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('resource_provider_id', 'aggregate_uuid')
    )
    op.create_index('rp_aggregates_uuid_idx', 'resource_provider_aggregates',
                    ['aggregate_uuid'])
    # The providers of hosts already in a host aggregate are members of it, as Nova
    # mirrors host aggregates into Placement.
    op.execute(
        "INSERT INTO resource_provider_aggregates "
        "(resource_provider_id, aggregate_uuid, created_at) "
        "SELECT rp.id, a.uuid, CURRENT_TIMESTAMP FROM resource_providers rp "
        "JOIN aggregate_hosts ah ON ah.host = rp.host "
        "JOIN aggregates a ON a.id = ah.aggregate_id")


def downgrade() -> None:
    op.drop_table('resource_provider_aggregates')
