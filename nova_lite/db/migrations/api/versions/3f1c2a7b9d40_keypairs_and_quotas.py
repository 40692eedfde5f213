"""key pairs, quotas, quota classes and per-project quota locks

Revision ID: 3f1c2a7b9d40
Revises: bc5bd2c5b730
Create Date: 2026-11-30 06:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = '3f1c2a7b9d40'
down_revision = 'bc5bd2c5b730'
branch_labels = None
depends_on = None


def _timestamps() -> list:
    return [sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=True)]


def upgrade() -> None:
    op.create_table('key_pairs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=255), nullable=False),
    sa.Column('public_key', sa.Text(), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    *_timestamps(),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'name')
    )
    op.create_table('quotas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    *_timestamps(),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('project_id', 'resource')
    )
    op.create_table('project_user_quotas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    *_timestamps(),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', 'project_id', 'resource')
    )
    with op.batch_alter_table('project_user_quotas', schema=None) as batch_op:
        batch_op.create_index('project_user_quotas_project_id_idx', ['project_id'],
                              unique=False)
    op.create_table('quota_classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('class_name', sa.String(length=255), nullable=False),
    sa.Column('resource', sa.String(length=255), nullable=False),
    sa.Column('hard_limit', sa.Integer(), nullable=False),
    *_timestamps(),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('class_name', 'resource')
    )
    op.create_table('quota_locks',
    sa.Column('project_id', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('project_id')
    )


def downgrade() -> None:
    for table in ('quota_locks', 'quota_classes', 'project_user_quotas', 'quotas',
                  'key_pairs'):
        op.drop_table(table)
