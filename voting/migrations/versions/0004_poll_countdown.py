"""a poll's preset voting time (GB 50799 §6.2.2-4), how it was closed, and when the hall
screen shows its result (§6.2.2-5)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("polls", sa.Column("duration", sa.Integer(), nullable=True))
    op.add_column("polls", sa.Column("deadline", sa.String(length=40), nullable=True))
    op.add_column("polls", sa.Column("closed_by", sa.String(length=16), nullable=True))
    op.add_column("polls", sa.Column("result_display", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("result_display")
        batch.drop_column("closed_by")
        batch.drop_column("deadline")
        batch.drop_column("duration")
