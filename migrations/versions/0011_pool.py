"""the national pool of assessors: one record per person, with their function, specialty,
institution, region and training record

Revision ID: 0011_pool
Revises: 0010_english_content
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011_pool'
down_revision: str | None = '0010_english_content'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pool_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('function', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('specialty', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('institution', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('region', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('starr_course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('starr_on', sa.Date(), nullable=True),
    sa.Column('bias_course', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('bias_on', sa.Date(), nullable=True),
    sa.Column('added_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_pool_entry_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_entry'))
    )
    with op.batch_alter_table('pool_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pool_entry_function'), ['function'], unique=False)
        batch_op.create_index(batch_op.f('ix_pool_entry_region'), ['region'], unique=False)
        batch_op.create_index(batch_op.f('ix_pool_entry_specialty'), ['specialty'], unique=False)
        batch_op.create_index(batch_op.f('ix_pool_entry_user_id'), ['user_id'], unique=True)



def downgrade() -> None:
    with op.batch_alter_table('pool_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pool_entry_user_id'))
        batch_op.drop_index(batch_op.f('ix_pool_entry_specialty'))
        batch_op.drop_index(batch_op.f('ix_pool_entry_region'))
        batch_op.drop_index(batch_op.f('ix_pool_entry_function'))

    op.drop_table('pool_entry')
