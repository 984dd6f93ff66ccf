"""Staff: who is who, binding groups to departments, first private contact."""

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import Service
from bot.services.tickets import TicketService
from storage import repo
from storage.dialects import Executor
from storage.models import Department, Estate, Staff


@dataclass
class StaffInfo:
    staff_id: int
    name: str
    role: str
    locale: str | None


# What ``StaffInfo`` holds of an active staff member (columns only, see ``RESIDENT_COLUMNS``:
# no Staff entity, so no departments loaded with it). Parameter ``telegram_id``.
STAFF_COLUMNS: Select[int, str, str, str | None] = (
    select(Staff.id, Staff.name, Staff.role, Staff.language)
    .where(Staff.telegram_id == bindparam("telegram_id"), Staff.active.is_(True))
    .order_by(Staff.id)
    .limit(1)
)


async def staff_info(session: AsyncSession, telegram_id: int) -> StaffInfo | None:
    row = (await session.execute(STAFF_COLUMNS, {"telegram_id": telegram_id})).first()
    return StaffInfo(row[0], row[1], row[2], row[3]) if row is not None else None


GROUP_LANGUAGE = (
    select(Estate.language)
    .join(Department, Department.estate_id == Estate.id)
    .where(Department.chat_id == bindparam("chat_id"))
    .limit(1)
)
FIRST_ESTATE_LANGUAGE = select(Estate.language).order_by(Estate.id).limit(1)


async def group_language(executor: Executor, chat_id: int) -> str | None:
    """The language of the estate a staff group belongs to (or of the only estate): cards and
    prompts in staff groups use it."""
    language = await executor.scalar(GROUP_LANGUAGE, {"chat_id": chat_id})
    if language is None:
        language = await executor.scalar(FIRST_ESTATE_LANGUAGE)
    return language


class StaffService(Service):
    async def lookup(self, telegram_id: int) -> StaffInfo | None:
        async with self.transaction() as session:
            return await staff_info(session, telegram_id)

    async def is_staff(self, telegram_id: int) -> bool:
        return await self.lookup(telegram_id) is not None

    async def opened_private_chat(self, telegram_id: int, tickets: TicketService) -> bool:
        """A staff member pressed Start: from now on job details go to them privately."""
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            if staff is None:
                return False
            first_time = not staff.has_private_chat
            staff.has_private_chat = True
            if first_time:
                out = await self.outgoing(session, staff.estate_id)
                await tickets.briefs_for(session, out, staff)
            return True

    async def bind(
        self,
        telegram_id: int,
        chat_id: int,
        thread_id: int | None,
        code: str,
        tickets: TicketService,
    ) -> tuple[Literal["bound", "not_admin", "unknown"], str, list[str]]:
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            if staff is None or staff.role != "admin":
                return "not_admin", code, []
            departments = (
                await session.scalars(
                    select(Department).where(Department.estate_id == staff.estate_id)
                )
            ).all()
            match = next((d for d in departments if d.code == code.strip().lower()), None)
            if match is None:
                return "unknown", code, sorted(d.code for d in departments)
            match.chat_id = chat_id
            match.thread_id = thread_id
            match.chat_lost = False
            await session.flush()
            out = await self.outgoing(session, staff.estate_id)
            await tickets.requeue_cards(session, out, match)
            return "bound", match.name, []
