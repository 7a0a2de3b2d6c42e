"""enrolment codes stored as hashes: the column deputies.enrolment_code becomes code_hash

Revision ID: 0005
Revises: 0004

The server replaces the clear codes left in the column by their keyed hash when it starts
(voting.session.codes.hash_clear_codes: the key is in server.key, not in the database).
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deputies") as batch:
        batch.alter_column("enrolment_code", new_column_name="code_hash")


def downgrade() -> None:
    # the clear codes cannot come back: a downgraded server knows no deputy's code (new cards)
    with op.batch_alter_table("deputies") as batch:
        batch.alter_column("code_hash", new_column_name="enrolment_code")
