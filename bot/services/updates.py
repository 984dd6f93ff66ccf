"""Arriving updates: remembering which were handled, so a redelivered one does nothing, and who
sent them, read in the same transaction."""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import Service
from bot.services.residents import ResidentInfo, resident_info
from bot.services.staff import StaffInfo, group_language, staff_info
from storage.models import ProcessedUpdate


@dataclass(frozen=True)
class Arrival:
    """An update as the edge first sees it. ``duplicate``: handled before, do nothing."""

    duplicate: bool
    resident: ResidentInfo | None = None  # private chats
    staff: StaffInfo | None = None  # private chats; None for residents and strangers
    group_locale: str | None = None  # group chats


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
            return Arrival(
                duplicate=False,
                resident=await resident_info(session, user_id),
                staff=await staff_info(session, user_id),
            )

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
