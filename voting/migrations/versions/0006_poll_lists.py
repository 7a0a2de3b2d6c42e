"""the server's list of polls, signed at every change (append-only chain)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "poll_lists",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("poll_lists")
