"""durable jobs: procrastinate's schema on PostgreSQL, the local_job queue on SQLite, and
each mail's state, attempts and Message-ID (app/jobs, app/accounts/mail.py)

Revision ID: 0014_jobs
Revises: 0013_document_store
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014_jobs'
down_revision: str | None = '0013_document_store'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('local_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('args', sa.Text(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('periodic_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('locked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_local_job')),
    sa.UniqueConstraint('periodic_key', name=op.f('uq_local_job_periodic_key'))
    )
    with op.batch_alter_table('local_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_local_job_run_after'), ['run_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_local_job_state'), ['state'], unique=False)

    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default='kept'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.create_index(batch_op.f('ix_mail_state'), ['state'], unique=False)
    op.execute("UPDATE mail SET state = 'sent', attempts = 1 WHERE sent_at IS NOT NULL")
    op.execute("UPDATE mail SET state = 'failed', attempts = 1 WHERE sent_at IS NULL AND error IS NOT NULL")
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.alter_column('state', server_default=None)
        batch_op.alter_column('attempts', server_default=None)
        batch_op.alter_column('message_id', server_default=None)

    if op.get_bind().dialect.name == 'postgresql':
        from procrastinate.schema import SchemaManager

        # On the raw connection, in this migration's transaction: without parameters,
        # psycopg passes the schema's text as it is (procrastinate's own apply_schema
        # escapes its % signs for a parameterised call instead).
        op.get_bind().connection.driver_connection.execute(SchemaManager.get_schema())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        bind = op.get_bind()
        for (signature,) in bind.execute(sa.text(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate%'"
        )).all():
            op.execute(f'DROP FUNCTION IF EXISTS {signature} CASCADE')
        for (name,) in bind.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE 'procrastinate%'"
        )).all():
            op.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
        for (name,) in bind.execute(sa.text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typname LIKE 'procrastinate%' "
            "AND t.typtype IN ('e', 'c')"
        )).all():
            op.execute(f'DROP TYPE IF EXISTS "{name}" CASCADE')
    with op.batch_alter_table('mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_state'))
        batch_op.drop_column('message_id')
        batch_op.drop_column('attempts')
        batch_op.drop_column('state')
    with op.batch_alter_table('local_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_job_state'))
        batch_op.drop_index(batch_op.f('ix_local_job_run_after'))
    op.drop_table('local_job')
