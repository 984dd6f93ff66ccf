"""clock and stats indexes

The clock's steps find their due rows by status and deadline; /stats, /report and /export read
the requests of a period by estate and creation time, the polls answered and the callbacks due
in a period by those times.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 09:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "tickets": {
        "ix_tickets_status_claim_remind_at": ["status", "claim_reminded_at", "claim_remind_at"],
        "ix_tickets_status_on_site_due_at": ["status", "on_site_due_at"],
        "ix_tickets_status_resolve_due_at": ["status", "resolve_due_at"],
        "ix_tickets_status_resolved_at": ["status", "resolved_at"],
        "ix_tickets_status_hold_until": ["status", "hold_until"],
        "ix_tickets_estate_id_created_at": ["estate_id", "created_at"],
    },
    "polls": {"ix_polls_answered_at": ["answered_at"]},
    "callbacks": {"ix_callbacks_reason_due_at": ["reason", "due_at"]},
}


def upgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes.items():
                batch_op.create_index(batch_op.f(name), columns, unique=False)


def downgrade() -> None:
    for table, indexes in reversed(INDEXES.items()):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(indexes):
                batch_op.drop_index(batch_op.f(name))
