"""the round report as PDF, rendered by a job and kept per chain head, view and language
(app/oversight/report_pdf.py)

Revision ID: 0015_report_pdf
Revises: 0014_jobs
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015_report_pdf'
down_revision: str | None = '0014_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_pdf',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('procedure_id', sa.Integer(), nullable=False),
    sa.Column('head_seq', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ready_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['procedure_id'], ['procedure.id'], name=op.f('fk_report_pdf_procedure_id_procedure'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_pdf')),
    sa.UniqueConstraint('key', name=op.f('uq_report_pdf_key'))
    )
    with op.batch_alter_table('report_pdf', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_pdf_procedure_id'), ['procedure_id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # A PDF is compressed already: out of line without trying again.
        op.execute('ALTER TABLE report_pdf ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade() -> None:
    with op.batch_alter_table('report_pdf', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_pdf_procedure_id'))
    op.drop_table('report_pdf')
