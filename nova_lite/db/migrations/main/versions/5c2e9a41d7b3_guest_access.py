"""guest access: console_auth_tokens

Revision ID: 5c2e9a41d7b3
Revises: 339d8acaeade
Create Date: 2026-11-30 06:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '5c2e9a41d7b3'
down_revision = '339d8acaeade'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('console_auth_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=255), nullable=False),
    sa.Column('console_type', sa.String(length=255), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('internal_access_path', sa.String(length=255), nullable=True),
    sa.Column('instance_uuid', sa.String(length=36), nullable=False),
    sa.Column('expires', sa.Integer(), nullable=False),
    sa.Column('access_url_base', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_index('console_auth_tokens_instance_uuid_idx', 'console_auth_tokens',
                    ['instance_uuid'], unique=False)
    op.create_index('console_auth_tokens_token_hash_idx', 'console_auth_tokens',
                    ['token_hash'], unique=False)


def downgrade() -> None:
    op.drop_index('console_auth_tokens_token_hash_idx', table_name='console_auth_tokens')
    op.drop_index('console_auth_tokens_instance_uuid_idx', table_name='console_auth_tokens')
    op.drop_table('console_auth_tokens')
