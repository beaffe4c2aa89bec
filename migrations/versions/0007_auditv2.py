"""audit chain version 2: public form, salted commitment, signed checkpoints

Revision ID: 0007_auditv2
Revises: 0006_deliberation
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007_auditv2"
down_revision: str | None = "0006_deliberation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: on SQLite batch mode copies the table, and the copy
    # would lose audit_entry's append-only triggers. Existing entries and chains are
    # version 1 and stay so; the code writes version 2 for chains begun from now on.
    op.add_column(
        "audit_entry", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column(
        "audit_entry",
        sa.Column("salt", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.add_column(
        "audit_entry",
        sa.Column("commitment", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    )
    op.add_column(
        "audit_head", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )

    op.create_table(
        "audit_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_checkpoint")),
        sa.UniqueConstraint("chain", "seq", name="uq_audit_checkpoint_chain_seq"),
    )
    with op.batch_alter_table("audit_checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_checkpoint_chain"), ["chain"], unique=False)

    # Checkpoints are published and handed out: like the entries, never changed or removed.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE "
            "ON audit_checkpoint FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_checkpoint_no_{verb.lower()} BEFORE {verb} "
                "ON audit_checkpoint BEGIN SELECT RAISE(ABORT, 'audit checkpoints are "
                "append-only'); END"
            )


def downgrade() -> None:
    op.drop_table("audit_checkpoint")  # its triggers go with it
    # Dropping columns on SQLite needs batch mode, which copies the table without its
    # triggers: put them back as the first migration made them.
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("version")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_column("commitment")
        batch_op.drop_column("salt")
        batch_op.drop_column("version")
    if op.get_bind().dialect.name != "postgresql":
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_entry_no_{verb.lower()}")
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
                "BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END"
            )
