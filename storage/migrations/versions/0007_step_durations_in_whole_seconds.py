"""how long each step of a request took, in whole seconds

``tickets`` gains ``claim_seconds``, ``on_site_seconds`` and ``resolve_seconds``: the seconds
from registration to the step, each instant truncated to its second (``bot.domain.elapsed``),
written with the step's time. The managers' figures read them instead of computing two epochs
per request. Existing requests are filled in from their timestamps.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEPS = {
    "claim_seconds": "claimed_at",
    "on_site_seconds": "on_site_at",
    "resolve_seconds": "resolved_at",
}


def _epoch(column: str, dialect: str) -> str:
    """Whole seconds since 1970 of a stored timestamp, truncated (as ``bot.services.stats``)."""
    if dialect == "postgresql":
        return f"CAST(floor(date_part('epoch', {column})) AS BIGINT)"
    # SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; strftime('%s') is in every version.
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"


def upgrade() -> None:
    for name in STEPS:
        op.add_column("tickets", sa.Column(name, sa.Integer(), nullable=True))
    dialect = op.get_bind().dialect.name
    created = _epoch("created_at", dialect)
    op.execute(
        "UPDATE tickets SET "
        + ", ".join(
            f"{name} = {_epoch(step, dialect)} - {created}" for name, step in STEPS.items()
        )
        + " WHERE "
        + " OR ".join(f"{step} IS NOT NULL" for step in STEPS.values())
    )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for name in STEPS:
            batch_op.drop_column(name)
