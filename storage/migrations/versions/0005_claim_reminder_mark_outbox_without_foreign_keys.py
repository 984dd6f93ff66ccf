"""claim reminders by a mark; the outbox without foreign keys

Claim reminders no longer write the requests they remind about: a row of ``clock_marks`` says
how far the step has got, in the order (reminder time, id). The mark starts just before the
first request the old column still owed a reminder to, so none is reminded twice or skipped.
The outbox's estate, request and resident columns lose their foreign keys (a check locks the
row it points at on PostgreSQL).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP = "claim_reminders"
OUTBOX_KEYS = {
    "fk_outbox_estate_id_estates": ("estate_id", "estates"),
    "fk_outbox_ticket_id_tickets": ("ticket_id", "tickets"),
    "fk_outbox_resident_id_residents": ("resident_id", "residents"),
}


def upgrade() -> None:
    op.create_table(
        "clock_marks",
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("done_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("step", name=op.f("pk_clock_marks")),
    )
    # Just before the first request still owed a reminder (new, not reminded); with none owed,
    # at the last request that has a reminder time.
    op.execute(
        sa.text(
            "INSERT INTO clock_marks (step, done_at, done_id) "
            "SELECT :step, claim_remind_at, id - 1 FROM tickets "
            "WHERE status = 'new' AND claim_reminded_at IS NULL AND claim_remind_at IS NOT NULL "
            "ORDER BY claim_remind_at, id LIMIT 1"
        ).bindparams(step=STEP)
    )
    op.execute(
        sa.text(
            "INSERT INTO clock_marks (step, done_at, done_id) "
            "SELECT :step, claim_remind_at, id FROM tickets WHERE claim_remind_at IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM clock_marks WHERE step = :step) "
            "ORDER BY claim_remind_at DESC, id DESC LIMIT 1"
        ).bindparams(step=STEP)
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_status_claim_remind_at")
        batch_op.create_index(
            "ix_tickets_status_claim_remind_at", ["status", "claim_remind_at", "id"], unique=False
        )
        batch_op.drop_column("claim_reminded_at")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name in OUTBOX_KEYS:
            batch_op.drop_constraint(name, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name, (column, table) in OUTBOX_KEYS.items():
            batch_op.create_foreign_key(name, table, [column], ["id"])
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("claim_reminded_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_index("ix_tickets_status_claim_remind_at")
        batch_op.create_index(
            "ix_tickets_status_claim_remind_at",
            ["status", "claim_reminded_at", "claim_remind_at"],
            unique=False,
        )
    # Everything up to the mark counts as reminded.
    op.execute(
        sa.text(
            "UPDATE tickets SET claim_reminded_at = claim_remind_at WHERE EXISTS ("
            "SELECT 1 FROM clock_marks m WHERE m.step = :step AND (tickets.claim_remind_at < "
            "m.done_at OR (tickets.claim_remind_at = m.done_at AND tickets.id <= m.done_id)))"
        ).bindparams(step=STEP)
    )
    op.drop_table("clock_marks")
