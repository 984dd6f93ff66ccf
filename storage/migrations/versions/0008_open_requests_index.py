"""an index of the open requests

``ix_tickets_open``: a partial index over the requests whose status is open, with what the
overdue counts and lists read (estate, status, the deadlines, arrival, department). Its size is
the open requests', whatever the history; an overdue count reads it alone.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The open statuses as of this revision, in the order of bot.domain.lifecycle.Status (the
# queries render the same list: storage.repo.IS_OPEN).
OPEN = (
    "new",
    "claimed",
    "on_the_way",
    "in_progress",
    "on_hold",
    "resolved",
    "acknowledged",
    "answered",
)
CONDITION = "status IN (" + ", ".join(f"'{status}'" for status in OPEN) + ")"
COLUMNS = [
    "estate_id",
    "status",
    "claim_due_at",
    "on_site_due_at",
    "on_site_at",
    "resolve_due_at",
    "department_id",
]


def upgrade() -> None:
    op.create_index(
        "ix_tickets_open",
        "tickets",
        COLUMNS,
        unique=False,
        sqlite_where=sa.text(CONDITION),
        postgresql_where=sa.text(CONDITION),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_open", table_name="tickets")
