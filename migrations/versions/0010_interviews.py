"""interview days: panels of the committee, the slots they hold and the applicants'
bookings, with the schedule's settings on the procedure

Revision ID: 0010_interviews
Revises: 0009_placement_rounds
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010_interviews'
down_revision: str | None = '0009_placement_rounds'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('panel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_panel_procedure_id_procedure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel')),
    sa.UniqueConstraint('procedure_id', 'name', name=op.f('uq_panel_procedure_id_name'))
    )
    with op.batch_alter_table('panel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_procedure_id'), ['procedure_id'], unique=False)

    op.create_table('panel_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['procedure_member.id'], name=op.f('fk_panel_member_member_id_procedure_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], name=op.f('fk_panel_member_panel_id_panel'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_member'))
    )
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_member_member_id'), ['member_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_panel_member_panel_id'), ['panel_id'], unique=False)

    op.create_table('interview_slot',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('panel_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['panel_id'], ['panel.id'], name=op.f('fk_interview_slot_panel_id_panel'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_interview_slot_procedure_id_procedure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interview_slot')),
    sa.UniqueConstraint('panel_id', 'starts_at', name=op.f('uq_interview_slot_panel_id_starts_at'))
    )
    with op.batch_alter_table('interview_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_slot_panel_id'), ['panel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_interview_slot_procedure_id'), ['procedure_id'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('booked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('by', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_booking_application_id_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_booking_procedure_id_procedure'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['interview_slot.id'], name=op.f('fk_booking_slot_id_interview_slot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_application_id'), ['application_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_booking_procedure_id'), ['procedure_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_booking_slot_id'), ['slot_id'], unique=True)

    # Plain ADD COLUMN (no table copy on SQLite): existing procedures get the defaults.
    op.add_column('procedure', sa.Column('slot_minutes', sa.Integer(), nullable=False, server_default=sa.text('45')))
    op.add_column('procedure', sa.Column('per_half_day', sa.Integer(), nullable=False, server_default=sa.text('3')))
    op.add_column('procedure', sa.Column('booking_deadline', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    for column in ("booking_deadline", "per_half_day", "slot_minutes"):
        op.execute(f'ALTER TABLE "procedure" DROP COLUMN {column}')
    for table, indexes in (
        ("booking", ("ix_booking_slot_id", "ix_booking_procedure_id", "ix_booking_application_id")),
        ("interview_slot", ("ix_interview_slot_procedure_id", "ix_interview_slot_panel_id")),
        ("panel_member", ("ix_panel_member_panel_id", "ix_panel_member_member_id")),
        ("panel", ("ix_panel_procedure_id",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(batch_op.f(index))
        op.drop_table(table)
