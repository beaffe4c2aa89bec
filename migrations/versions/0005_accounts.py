"""accounts: mail requests, counted for throttling registration, reset and confirmation mails

Revision ID: 0005_accounts
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005_accounts'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('pending', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table('mail_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mailbox', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_request'))
    )
    with op.batch_alter_table('mail_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_request_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_request_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_request_mailbox'), ['mailbox'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mail_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_request_mailbox'))
        batch_op.drop_index(batch_op.f('ix_mail_request_at'))
        batch_op.drop_index(batch_op.f('ix_mail_request_address'))

    op.drop_table('mail_request')
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_column('pending')
