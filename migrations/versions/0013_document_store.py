"""the database document store: a document's bytes in 64 KiB chunks, written in the same
transaction as its row (app/applications/stores.py)

Revision ID: 0013_document_store
Revises: 0012_interview_day
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013_document_store'
down_revision: str | None = '0012_interview_day'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('document_blob',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', 'seq')
    )
    if op.get_bind().dialect.name == 'postgresql':
        # Out of line without trying to compress: a PDF is compressed already.
        op.execute('ALTER TABLE document_blob ALTER COLUMN data SET STORAGE EXTERNAL')


def downgrade() -> None:
    op.drop_table('document_blob')
