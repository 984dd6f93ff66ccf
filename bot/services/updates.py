"""Arriving updates: remembering which were handled, so a redelivered one does nothing, and who
sent them, read in the same transaction."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, literal, select, true
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import Service
from bot.services.residents import ResidentInfo, resident_columns
from bot.services.staff import StaffInfo, group_language, staff_columns
from storage.models import Estate, ProcessedUpdate


@dataclass(frozen=True)
class Arrival:
    """An update as the edge first sees it. ``duplicate``: handled before, do nothing."""

    duplicate: bool
    resident: ResidentInfo | None = None  # private chats
    staff: StaffInfo | None = None  # private chats; None for residents and strangers
    group_locale: str | None = None  # group chats


async def who_is(session: AsyncSession, telegram_id: int) -> tuple[ResidentInfo, StaffInfo | None]:
    """``resident_info`` and ``staff_info`` in one statement: on SQLite every statement is a
    round trip to the driver's thread while the only connection is held, so the hot path's
    transaction is as long as its statements are many."""
    resident = resident_columns(telegram_id).limit(1).subquery("resident")
    staff = staff_columns(telegram_id).limit(1).subquery("staff")
    row = (
        await session.execute(
            select(
                select(Estate.name).order_by(Estate.id).limit(1).scalar_subquery(),
                *resident.c,
                *staff.c,
            )
            .select_from(select(literal(1).label("one")).subquery("one"))
            .outerjoin(resident, true())
            .outerjoin(staff, true())
        )
    ).one()
    estate_name, status, language, unreachable, flat, building = row[:6]
    staff_id, staff_name, role, staff_language = row[6:]
    found = (
        ResidentInfo("unknown", "en", estate_name)
        if status is None
        else ResidentInfo(status, language, estate_name, flat, building, unreachable)
    )
    return found, (
        StaffInfo(staff_id, staff_name, role, staff_language) if staff_id is not None else None
    )


class UpdateLog(Service):
    async def arrive(
        self, update_id: int, user_id: int | None, chat_id: int | None, private: bool
    ) -> Arrival:
        """Record the update and read who sent it, in one transaction."""
        async with self.transaction() as session:
            if await self._record(session, update_id):
                return Arrival(duplicate=True)
            if user_id is None:
                return Arrival(duplicate=False)
            if not private and chat_id is not None:
                return Arrival(duplicate=False, group_locale=await group_language(session, chat_id))
            resident, staff = await who_is(session, user_id)
            return Arrival(duplicate=False, resident=resident, staff=staff)

    async def _record(self, session: AsyncSession, update_id: int) -> bool:
        """Record the update; True if it had been recorded before."""
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        result = await session.execute(
            insert(ProcessedUpdate)
            .values(update_id=update_id, at=self.deps.clock.now())
            .on_conflict_do_nothing(index_elements=["update_id"])
        )
        return bool(result.rowcount == 0)  # type: ignore[attr-defined]

    async def forget_older_than(self, days: int = 7) -> None:
        async with self.transaction() as session:
            cutoff = self.deps.clock.now() - timedelta(days=days)
            await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < cutoff))
