"""deliberation: the joint outcome's reason per criterion; remarks numbered per procedure

Revision ID: 0006_deliberation
Revises: 0005_accounts
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_deliberation"
down_revision: str | None = "0005_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Outcomes recorded before this had one motivation only: no reason per criterion.
    with op.batch_alter_table("joint_outcome", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reasons", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("joint_outcome", schema=None) as batch_op:
        batch_op.alter_column("reasons", server_default=None)

    # Existing remarks are numbered in the order they were made, within their procedure.
    with op.batch_alter_table("remark", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE remark SET number = (SELECT COUNT(*) FROM remark AS earlier "
        "WHERE earlier.procedure_id = remark.procedure_id AND earlier.id <= remark.id)"
    )
    with op.batch_alter_table("remark", schema=None) as batch_op:
        batch_op.alter_column("number", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_remark_procedure_id_number"), ["procedure_id", "number"]
        )


def downgrade() -> None:
    with op.batch_alter_table("remark", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_remark_procedure_id_number"), type_="unique")
        batch_op.drop_column("number")
    with op.batch_alter_table("joint_outcome", schema=None) as batch_op:
        batch_op.drop_column("reasons")
