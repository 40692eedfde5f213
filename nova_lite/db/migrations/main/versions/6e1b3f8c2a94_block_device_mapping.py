"""block_device_mapping: the disks of instances (image root, volumes, local disks)

Revision ID: 6e1b3f8c2a94
Revises: 8a4d0c6e2f17
Create Date: 2026-11-30 13:20:00
"""

from alembic import op
import sqlalchemy as sa

from nova_lite.db.types import MediumText


revision = '6e1b3f8c2a94'
down_revision = '8a4d0c6e2f17'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('block_device_mapping',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('source_type', sa.String(length=255), nullable=True),
    sa.Column('destination_type', sa.String(length=255), nullable=True),
    sa.Column('device_name', sa.String(length=255), nullable=True),
    sa.Column('device_type', sa.String(length=255), nullable=True),
    sa.Column('disk_bus', sa.String(length=255), nullable=True),
    sa.Column('boot_index', sa.Integer(), nullable=True),
    sa.Column('guest_format', sa.String(length=255), nullable=True),
    sa.Column('volume_id', sa.String(length=36), nullable=True),
    sa.Column('snapshot_id', sa.String(length=36), nullable=True),
    sa.Column('image_id', sa.String(length=36), nullable=True),
    sa.Column('volume_size', sa.Integer(), nullable=True),
    sa.Column('volume_type', sa.String(length=255), nullable=True),
    sa.Column('delete_on_termination', sa.Boolean(), nullable=False),
    sa.Column('no_device', sa.Boolean(), nullable=False),
    sa.Column('attachment_id', sa.String(length=36), nullable=True),
    sa.Column('connection_info', MediumText, nullable=True),
    sa.Column('tag', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('deleted', sa.Integer(), nullable=False),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uuid')
    )
    op.create_index('block_device_mapping_instance_uuid_idx', 'block_device_mapping',
                    ['instance_uuid'], unique=False)
    op.create_index('block_device_mapping_volume_id_idx', 'block_device_mapping',
                    ['volume_id'], unique=False)
    op.create_index('block_device_mapping_instance_uuid_device_name_idx',
                    'block_device_mapping', ['instance_uuid', 'device_name'], unique=False)


def downgrade() -> None:
    op.drop_table('block_device_mapping')
