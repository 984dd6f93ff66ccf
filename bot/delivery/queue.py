"""The sender's reads of the outbox: what is due, and when the next retry is."""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Department, Outbox

PENDING = "pending"


def _deliverable() -> ColumnElement[bool]:
    """Pending, and not to a group the bot lost (those rows wait until it is back)."""
    lost = select(Department.chat_id).where(
        Department.chat_lost.is_(True), Department.chat_id.is_not(None)
    )
    return (Outbox.status == PENDING) & Outbox.chat_id.not_in(lost)


async def due_rows(
    session: AsyncSession, now: datetime, limit: int, skip_chats: Collection[int] = ()
) -> Sequence[Outbox]:
    """Deliverable rows that are due, oldest first, leaving out the chats in ``skip_chats``
    and, in every chat, whatever comes after a row that waits for a retry (so order holds).
    (``storage.outbox_repo.due_rows`` with ``skip_chats``.)"""
    waiting = (
        select(Outbox.chat_id, func.min(Outbox.id).label("first_waiting"))
        .where(Outbox.status == PENDING, Outbox.attempts > 0, Outbox.next_attempt_at > now)
        .group_by(Outbox.chat_id)
        .subquery()
    )
    query = (
        select(Outbox)
        .outerjoin(waiting, waiting.c.chat_id == Outbox.chat_id)
        .where(
            _deliverable(),
            Outbox.next_attempt_at <= now,
            waiting.c.first_waiting.is_(None) | (Outbox.id < waiting.c.first_waiting),
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    if skip_chats:
        query = query.where(Outbox.chat_id.not_in(list(skip_chats)))
    return (await session.scalars(query)).all()


async def next_retry_at(session: AsyncSession, now: datetime) -> datetime | None:
    """When the earliest deliverable row that is not due yet becomes due."""
    return await session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(_deliverable(), Outbox.next_attempt_at > now)
    )


async def pending_count(session: AsyncSession) -> int:
    """Deliverable rows not sent or given up yet."""
    found = await session.scalar(select(func.count()).where(_deliverable()))
    return int(found or 0)
