"""the chat app's tables: Chainlit's SQLAlchemy data layer (users, threads, steps, elements, feedbacks)

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('users',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('identifier', sa.Text(), nullable=False),
    sa.Column('metadata', sa.Text(), nullable=False),
    sa.Column('createdAt', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('identifier')
    )
    op.create_table('threads',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('createdAt', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=True),
    sa.Column('userId', sa.Text(), nullable=True),
    sa.Column('userIdentifier', sa.Text(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('metadata', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_threads_userId', 'threads', ['userId'], unique=False)
    op.create_table('steps',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('type', sa.Text(), nullable=False),
    sa.Column('threadId', sa.Text(), nullable=False),
    sa.Column('parentId', sa.Text(), nullable=True),
    sa.Column('streaming', sa.Boolean(), nullable=True),
    sa.Column('waitForAnswer', sa.Boolean(), nullable=True),
    sa.Column('isError', sa.Boolean(), nullable=True),
    sa.Column('metadata', sa.Text(), nullable=True),
    sa.Column('tags', sa.Text(), nullable=True),
    sa.Column('input', sa.Text(), nullable=True),
    sa.Column('output', sa.Text(), nullable=True),
    sa.Column('createdAt', sa.Text(), nullable=True),
    sa.Column('command', sa.Text(), nullable=True),
    sa.Column('start', sa.Text(), nullable=True),
    sa.Column('end', sa.Text(), nullable=True),
    sa.Column('generation', sa.Text(), nullable=True),
    sa.Column('showInput', sa.Text(), nullable=True),
    sa.Column('language', sa.Text(), nullable=True),
    sa.Column('indent', sa.Integer(), nullable=True),
    sa.Column('defaultOpen', sa.Boolean(), nullable=True),
    sa.Column('autoCollapse', sa.Boolean(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_steps_threadId', 'steps', ['threadId'], unique=False)
    op.create_table('elements',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('threadId', sa.Text(), nullable=True),
    sa.Column('type', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('chainlitKey', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('display', sa.Text(), nullable=True),
    sa.Column('objectKey', sa.Text(), nullable=True),
    sa.Column('size', sa.Text(), nullable=True),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('language', sa.Text(), nullable=True),
    sa.Column('forId', sa.Text(), nullable=True),
    sa.Column('mime', sa.Text(), nullable=True),
    sa.Column('props', sa.Text(), nullable=True),
    sa.Column('autoPlay', sa.Boolean(), nullable=True),
    sa.Column('playerConfig', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_elements_threadId', 'elements', ['threadId'], unique=False)
    op.create_table('feedbacks',
    sa.Column('id', sa.Text(), nullable=False),
    sa.Column('forId', sa.Text(), nullable=False),
    sa.Column('threadId', sa.Text(), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_feedbacks_forId', 'feedbacks', ['forId'], unique=False)


def downgrade() -> None:
    for index, table in (('ix_feedbacks_forId', 'feedbacks'), ('ix_elements_threadId', 'elements'),
                         ('ix_steps_threadId', 'steps'), ('ix_threads_userId', 'threads')):
        op.drop_index(index, table_name=table)
    for table in ('feedbacks', 'elements', 'steps', 'threads', 'users'):
        op.drop_table(table)
