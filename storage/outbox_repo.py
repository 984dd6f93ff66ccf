"""Writing to and reading from the outbox table."""

from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import MessageLink, Outbox


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
