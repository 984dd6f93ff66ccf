"""the claim-reminder index carries what queueing a reminder reads (PostgreSQL)

On PostgreSQL, ``ix_tickets_status_claim_remind_at`` gains ``INCLUDE (estate_id, department_id,
claim_due_at)``: a claim-reminder batch then reads no request's row where the table's pages are
all-visible. SQLite has no included columns; its index is unchanged.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 15:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_tickets_status_claim_remind_at"
COLUMNS = ["status", "claim_remind_at", "id"]
READS = ["estate_id", "department_id", "claim_due_at"]


def _rebuild(include: list[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="tickets")
    op.create_index(INDEX, "tickets", COLUMNS, unique=False, postgresql_include=include)


def upgrade() -> None:
    _rebuild(READS)


def downgrade() -> None:
    _rebuild([])
