"""placement: institutions with their capacity, the candidates' preference lists, and the
placement's timeline on the procedure

Revision ID: 0008_placement
Revises: 0007_auditv2
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008_placement'
down_revision: str | None = '0007_auditv2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('institution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('city', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_institution_procedure_id_procedure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution')),
    sa.UniqueConstraint('procedure_id', 'code', name=op.f('uq_institution_procedure_id_code'))
    )
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_institution_procedure_id'), ['procedure_id'], unique=False)

    op.create_table('preference_list',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('codes', sa.JSON(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_preference_list_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_preference_list_procedure_id_procedure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_preference_list'))
    )
    with op.batch_alter_table('preference_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_preference_list_application_id'), ['application_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_preference_list_procedure_id'), ['procedure_id'], unique=False)

    # Plain ADD COLUMN (no table copy on SQLite): existing procedures get the defaults.
    op.add_column('procedure', sa.Column('preference_deadline', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    op.add_column('procedure', sa.Column('answer_hours', sa.Integer(), nullable=False, server_default=sa.text('48')))
    op.add_column('procedure', sa.Column('last_round', sa.Integer(), nullable=False, server_default=sa.text('3')))
    op.add_column('procedure', sa.Column('preferences_fixed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    # A draw's beacon value is entered by two people: the first entry waits for the second.
    op.add_column('draw', sa.Column('beacon_pending_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.add_column('draw', sa.Column('beacon_pending_by', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35 and later, PostgreSQL): copying the procedure table, as
    # batch mode would, fails on the foreign keys that point at it.
    for table, column in (
        ("draw", "beacon_pending_by"),
        ("draw", "beacon_pending_sha256"),
        ("procedure", "preferences_fixed_at"),
        ("procedure", "last_round"),
        ("procedure", "answer_hours"),
        ("procedure", "preference_deadline"),
    ):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column}')

    with op.batch_alter_table('preference_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_preference_list_procedure_id'))
        batch_op.drop_index(batch_op.f('ix_preference_list_application_id'))

    op.drop_table('preference_list')
    with op.batch_alter_table('institution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_institution_procedure_id'))

    op.drop_table('institution')
