"""The sender's reads of the outbox: what is due, and when the next retry is."""

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Department, Outbox

PENDING = "pending"
SENDING = "sending"


def _deliverable() -> ColumnElement[bool]:
    """Pending, and not to a group the bot lost (those rows wait until it is back)."""
    lost = select(Department.chat_id).where(
        Department.chat_lost.is_(True), Department.chat_id.is_not(None)
    )
    return (Outbox.status == PENDING) & Outbox.chat_id.not_in(lost)


def _due(now: datetime) -> ColumnElement[bool]:
    """Pending and due, or claimed by a sender whose lease ran out (it died mid-way)."""
    expired = (Outbox.status == SENDING) & (Outbox.next_attempt_at <= now)
    pending = _deliverable() & (Outbox.next_attempt_at <= now)
    return pending | expired


async def due_rows(
    session: AsyncSession, now: datetime, limit: int, skip_chats: Collection[int] = ()
) -> Sequence[Outbox]:
    """Deliverable rows that are due, oldest first, leaving out the chats in ``skip_chats``
    and, in every chat, whatever comes after a row that waits for a retry (so order holds)."""
    waiting = (
        select(Outbox.chat_id, func.min(Outbox.id).label("first_waiting"))
        .where(Outbox.status == PENDING, Outbox.attempts > 0, Outbox.next_attempt_at > now)
        .group_by(Outbox.chat_id)
        .subquery()
    )
    leased = select(Outbox.chat_id).where(Outbox.status == SENDING, Outbox.next_attempt_at > now)
    query = (
        select(Outbox)
        .outerjoin(waiting, waiting.c.chat_id == Outbox.chat_id)
        .where(
            _due(now),
            Outbox.chat_id.not_in(leased),
            waiting.c.first_waiting.is_(None) | (Outbox.id < waiting.c.first_waiting),
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    if skip_chats:
        query = query.where(Outbox.chat_id.not_in(list(skip_chats)))
    return (await session.scalars(query)).all()


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, skip_chats: Collection[int], lease: timedelta
) -> Sequence[Outbox]:
    """Take due rows for this sender, whole chats at a time, leased until ``now + lease``.

    Several senders may run against one PostgreSQL database: a chat belongs to the sender that
    locks its oldest due row (``FOR UPDATE SKIP LOCKED``), and a chat with leased rows is left
    alone, so no row is sent twice and each chat's rows keep their order. A sender that dies
    leaves its lease to expire; its rows are then due again (at most the one in flight repeats).
    """
    rows = list(await due_rows(session, now, limit, skip_chats))
    if not rows:
        return []
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        firsts: dict[int, int] = {}
        for row in rows:
            firsts.setdefault(row.chat_id, row.id)
        won = set(
            (
                await session.scalars(
                    select(Outbox.chat_id)
                    .where(Outbox.id.in_(list(firsts.values())), _due(now))
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        rows = [row for row in rows if row.chat_id in won]
        if not rows:
            return []
        locked = set(
            (
                await session.scalars(
                    select(Outbox.id)
                    .where(Outbox.id.in_([r.id for r in rows]), _due(now))
                    .with_for_update(skip_locked=True)
                )
            ).all()
        )
        rows = [row for row in rows if row.id in locked]
    await session.execute(
        update(Outbox)
        .where(Outbox.id.in_([row.id for row in rows]))
        .values(status=SENDING, next_attempt_at=now + lease)
    )
    return rows


async def release_leases(session: AsyncSession, now: datetime) -> None:
    """A single sender starting up: whatever it had claimed before a crash is due again now."""
    await session.execute(
        update(Outbox).where(Outbox.status == SENDING).values(status=PENDING, next_attempt_at=now)
    )


def _undelivered() -> ColumnElement[bool]:
    """Deliverable, or claimed by a sender and not marked yet (its lease may run out)."""
    return _deliverable() | (Outbox.status == SENDING)


async def next_retry_at(session: AsyncSession, now: datetime) -> datetime | None:
    """When the earliest undelivered row that is not due yet becomes due (a retry, or the end
    of a lease)."""
    return await session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(_undelivered(), Outbox.next_attempt_at > now)
    )


async def pending_count(session: AsyncSession) -> int:
    """Rows not sent or given up yet (pending, or claimed by a sender)."""
    found = await session.scalar(select(func.count()).where(_undelivered()))
    return int(found or 0)
