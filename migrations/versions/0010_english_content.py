"""english content: an optional English version of every text a procedure publishes (its
description and method, each requirement's text and rationale, each plus's description)

Revision ID: 0010_english_content
Revises: 0010_interviews
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010_english_content'
down_revision: str | None = '0010_interviews'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ('procedure', 'description_en'),
    ('procedure', 'method_en'),
    ('requirement', 'text_en'),
    ('requirement', 'rationale_en'),
    ('plus', 'description_en'),
)


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite): the texts published so far have no
    # English version yet.
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.Text(), nullable=False, server_default=''))


def downgrade() -> None:
    for table, column in reversed(COLUMNS):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN {column}')
