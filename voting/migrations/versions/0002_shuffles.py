"""shuffles of non-homomorphic polls; the tally to decrypt after them

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shuffles",
        sa.Column("poll_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("owner", sa.Integer(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["poll_id"], ["polls.id"]),
        sa.PrimaryKeyConstraint("poll_id", "seq"),
        sa.UniqueConstraint("poll_id", "owner", name="uq_shuffle_owner"),
    )
    with op.batch_alter_table("polls") as batch:
        batch.add_column(sa.Column("decrypt_tally", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("decrypt_tally")
    op.drop_table("shuffles")
