"""the interview day: the reminder sent the day before each booking, a panel's running-late
notice, and where an applicant works now (a panel with a member from there is not offered)

Revision ID: 0012_interview_day
Revises: 0011_pool
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012_interview_day'
down_revision: str | None = '0011_pool'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('institution', sqlmodel.sql.sqltypes.AutoString(length=200), server_default='', nullable=False))

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))

    with op.batch_alter_table('panel', schema=None) as batch_op:
        batch_op.add_column(sa.Column('late_minutes', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('late_on', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('panel', schema=None) as batch_op:
        batch_op.drop_column('late_on')
        batch_op.drop_column('late_minutes')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('reminded_at')

    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('institution')

