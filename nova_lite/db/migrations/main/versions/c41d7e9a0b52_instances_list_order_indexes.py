"""instances: indexes in server lists' default order (newest first, then uuid), so a
page is read from the index instead of sorting every live row

Revision ID: c41d7e9a0b52
Revises: 6e1b3f8c2a94
Create Date: 2026-11-30 16:35:00
"""

from alembic import op


revision = 'c41d7e9a0b52'
down_revision = '6e1b3f8c2a94'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('instances_deleted_created_at_uuid_idx', 'instances',
                    ['deleted', 'created_at', 'uuid'])
    op.create_index('instances_project_id_deleted_created_at_uuid_idx', 'instances',
                    ['project_id', 'deleted', 'created_at', 'uuid'])
    op.drop_index('instances_project_id_deleted_idx', table_name='instances')


def downgrade() -> None:
    op.create_index('instances_project_id_deleted_idx', 'instances',
                    ['project_id', 'deleted'])
    op.drop_index('instances_project_id_deleted_created_at_uuid_idx', table_name='instances')
    op.drop_index('instances_deleted_created_at_uuid_idx', table_name='instances')
