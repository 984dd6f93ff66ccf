"""The sender's reads of the outbox: what is due, and when the next retry is."""

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import Executor
from storage.models import Department, Outbox

PENDING = "pending"
SENDING = "sending"


# The statements are built once, with parameters (``now``, ``limit``, ``ids``…): the sender
# reads the queue every time something is queued, and building these statements (and deriving
# their cache keys) cost more CPU than running them.
NOW: BindParameter[datetime] = bindparam("now")


def _deliverable() -> ColumnElement[bool]:
    """Pending, and not to a group the bot lost (those rows wait until it is back)."""
    lost = select(Department.chat_id).where(
        Department.chat_lost.is_(True), Department.chat_id.is_not(None)
    )
    return (Outbox.status == PENDING) & Outbox.chat_id.not_in(lost)


def _due() -> ColumnElement[bool]:
    """Pending and due, or claimed by a sender whose lease ran out (it died mid-way)."""
    expired = (Outbox.status == SENDING) & (Outbox.next_attempt_at <= NOW)
    pending = _deliverable() & (Outbox.next_attempt_at <= NOW)
    return pending | expired


def _due_rows() -> Select[Outbox]:
    waiting = (
        select(Outbox.chat_id, func.min(Outbox.id).label("first_waiting"))
        .where(Outbox.status == PENDING, Outbox.attempts > 0, Outbox.next_attempt_at > NOW)
        .group_by(Outbox.chat_id)
        .subquery()
    )
    leased = select(Outbox.chat_id).where(Outbox.status == SENDING, Outbox.next_attempt_at > NOW)
    return (
        select(Outbox)
        .outerjoin(waiting, waiting.c.chat_id == Outbox.chat_id)
        .where(
            _due(),
            Outbox.chat_id.not_in(leased),
            waiting.c.first_waiting.is_(None) | (Outbox.id < waiting.c.first_waiting),
        )
        .order_by(Outbox.id)
        .limit(bindparam("limit"))
    )


DUE_ROWS = _due_rows()
DUE_ROWS_SKIPPING = DUE_ROWS.where(Outbox.chat_id.not_in(bindparam("skip", expanding=True)))
IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
LOCK_FIRSTS = (
    select(Outbox.chat_id).where(Outbox.id.in_(IDS), _due()).with_for_update(skip_locked=True)
)
LOCK_ROWS = select(Outbox.id).where(Outbox.id.in_(IDS), _due()).with_for_update(skip_locked=True)
LEASE_ROWS = (
    update(Outbox)
    .where(Outbox.id.in_(IDS))
    .values(status=SENDING, next_attempt_at=bindparam("until"))
)


async def due_rows(
    session: AsyncSession, now: datetime, limit: int, skip_chats: Collection[int] = ()
) -> Sequence[Outbox]:
    """Deliverable rows that are due, oldest first, leaving out the chats in ``skip_chats``
    and, in every chat, whatever comes after a row that waits for a retry (so order holds)."""
    if skip_chats:
        found = await session.scalars(
            DUE_ROWS_SKIPPING, {"now": now, "limit": limit, "skip": list(skip_chats)}
        )
    else:
        found = await session.scalars(DUE_ROWS, {"now": now, "limit": limit})
    return found.all()


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
            (await session.scalars(LOCK_FIRSTS, {"ids": list(firsts.values()), "now": now})).all()
        )
        rows = [row for row in rows if row.chat_id in won]
        if not rows:
            return []
        ids = [r.id for r in rows]
        locked = set((await session.scalars(LOCK_ROWS, {"ids": ids, "now": now})).all())
        rows = [row for row in rows if row.id in locked]
    await session.execute(LEASE_ROWS, {"ids": [row.id for row in rows], "until": now + lease})
    return rows


async def release_leases(session: AsyncSession, now: datetime) -> None:
    """A single sender starting up: whatever it had claimed before a crash is due again now."""
    await session.execute(
        update(Outbox).where(Outbox.status == SENDING).values(status=PENDING, next_attempt_at=now)
    )


def _undelivered() -> ColumnElement[bool]:
    """Deliverable, or claimed by a sender and not marked yet (its lease may run out)."""
    return _deliverable() | (Outbox.status == SENDING)


NEXT_RETRY_AT = select(func.min(Outbox.next_attempt_at)).where(
    _undelivered(), Outbox.next_attempt_at > NOW
)
PENDING_COUNT = select(func.count()).where(_undelivered())


async def next_retry_at(executor: Executor, now: datetime) -> datetime | None:
    """When the earliest undelivered row that is not due yet becomes due (a retry, or the end
    of a lease)."""
    return await executor.scalar(NEXT_RETRY_AT, {"now": now})


async def pending_count(session: AsyncSession) -> int:
    """Rows not sent or given up yet (pending, or claimed by a sender)."""
    found = await session.scalar(PENDING_COUNT)
    return int(found or 0)
