"""placement rounds: the published rounds with their offers, the purpose of a draw (a tie at
the cut, or the ordering draw of a placement) and the moment a placement is closed

Revision ID: 0009_placement_rounds
Revises: 0008_placement
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009_placement_rounds'
down_revision: str | None = '0008_placement'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('placement_round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('record', sa.JSON(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('answers_due', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_placement_round_procedure_id_procedure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_round')),
    sa.UniqueConstraint('procedure_id', 'number', name=op.f('uq_placement_round_procedure_id_number'))
    )
    with op.batch_alter_table('placement_round', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placement_round_procedure_id'), ['procedure_id'], unique=False)

    op.create_table('placement_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_placement_offer_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_placement_offer_procedure_id_procedure'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['placement_round.id'], name=op.f('fk_placement_offer_round_id_placement_round'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placement_offer')),
    sa.UniqueConstraint('round_id', 'application_id', name=op.f('uq_placement_offer_round_id_application_id'))
    )
    with op.batch_alter_table('placement_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_placement_offer_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placement_offer_procedure_id'), ['procedure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_placement_offer_round_id'), ['round_id'], unique=False)

    # Plain ADD COLUMN (no table copy on SQLite): existing draws break a tie.
    op.add_column('draw', sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='tie'))
    op.add_column('procedure', sa.Column('placement_closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    for table, column in (("procedure", "placement_closed_at"), ("draw", "purpose")):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column}')
    with op.batch_alter_table('placement_offer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placement_offer_round_id'))
        batch_op.drop_index(batch_op.f('ix_placement_offer_procedure_id'))
        batch_op.drop_index(batch_op.f('ix_placement_offer_application_id'))
    op.drop_table('placement_offer')
    with op.batch_alter_table('placement_round', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_placement_round_procedure_id'))
    op.drop_table('placement_round')
