"""Writing to and reading from the outbox table."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Department, MessageLink, Outbox


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    chat_id: int,
    op: str,
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
    thread_id: int | None = None,
    estate_id: int | None = None,
    ticket_id: int | None = None,
    resident_id: int | None = None,
    urgent: bool = False,
) -> None:
    """Queue a message once: a second row with the same key is silently dropped."""
    values = {
        "key": key,
        "chat_id": chat_id,
        "thread_id": thread_id,
        "op": op,
        "payload": payload,
        "estate_id": estate_id,
        "ticket_id": ticket_id,
        "resident_id": resident_id,
        "urgent": urgent,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Outbox).values(**values).on_conflict_do_nothing(index_elements=["key"])
    await session.execute(statement)


async def due_rows(session: AsyncSession, now: datetime, limit: int) -> Sequence[Outbox]:
    """Pending rows that are due, skipping chats whose earlier message waits for a retry."""
    blocked = (
        select(Outbox.chat_id, func.min(Outbox.id).label("first_waiting"))
        .where(Outbox.status == "pending", Outbox.attempts > 0, Outbox.next_attempt_at > now)
        .group_by(Outbox.chat_id)
        .subquery()
    )
    query = (
        select(Outbox)
        .outerjoin(blocked, blocked.c.chat_id == Outbox.chat_id)
        .where(
            Outbox.status == "pending",
            Outbox.next_attempt_at <= now,
            (blocked.c.first_waiting.is_(None)) | (Outbox.id < blocked.c.first_waiting),
            Outbox.chat_id.not_in(
                select(Department.chat_id).where(
                    Department.chat_lost.is_(True), Department.chat_id.is_not(None)
                )
            ),
        )
        .order_by(Outbox.id)
        .limit(limit)
    )
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Outbox)
    return (await session.scalars(query)).all()


async def next_due_at(session: AsyncSession) -> datetime | None:
    return await session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(Outbox.status == "pending")
    )


async def pending_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(Outbox.status == "pending")) or 0)


async def link_message(
    session: AsyncSession, chat_id: int, message_id: int, ticket_id: int
) -> None:
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(MessageLink)
        .values(chat_id=chat_id, message_id=message_id, ticket_id=ticket_id)
        .on_conflict_do_nothing(index_elements=["chat_id", "message_id"])
    )


async def ticket_for_message(session: AsyncSession, chat_id: int, message_id: int) -> int | None:
    return await session.scalar(
        select(MessageLink.ticket_id).where(
            and_(MessageLink.chat_id == chat_id, MessageLink.message_id == message_id)
        )
    )


async def hold_chat(session: AsyncSession, chat_id: int, until: datetime) -> None:
    await session.execute(
        update(Outbox)
        .where(Outbox.chat_id == chat_id, Outbox.status == "pending")
        .values(next_attempt_at=until)
    )
