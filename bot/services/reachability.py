"""Who cannot be reached: residents who blocked the bot, department groups the bot lost."""

import logging

from sqlalchemy import select

from bot.services.base import Service
from bot.services.tickets import TicketService
from bot.ui.format import h
from storage import repo
from storage.models import Department, Estate, Ticket

log = logging.getLogger(__name__)


class ReachabilityService(Service):
    def __init__(self, deps: object, tickets: TicketService) -> None:
        super().__init__(deps)  # type: ignore[arg-type]
        self.tickets = tickets

    async def resident_blocked(self, telegram_id: int) -> None:
        await self._set_unreachable(telegram_id, True)

    async def resident_back(self, telegram_id: int) -> None:
        await self._set_unreachable(telegram_id, False)

    async def _set_unreachable(self, telegram_id: int, value: bool) -> None:
        """Staff see it on every open card of the resident, so someone phones them."""
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            if resident is None or resident.unreachable == value:
                return
            resident.unreachable = value
            out = await self.outgoing(session, resident.estate_id)
            tickets = (
                await session.scalars(
                    select(Ticket).where(
                        Ticket.resident_id == resident.id, Ticket.status.in_(repo.OPEN_STATUSES)
                    )
                )
            ).all()
            for ticket in tickets:
                ticket.version += 1
                await session.flush()
                await self.tickets.refresh_card(out, ticket)

    async def group_lost(self, chat_id: int) -> None:
        """The bot was removed from a department group: cards wait, managers are told."""
        async with self.transaction() as session:
            departments = (
                await session.scalars(select(Department).where(Department.chat_id == chat_id))
            ).all()
            for department in departments:
                if department.chat_lost:
                    continue
                department.chat_lost = True
                estate = await session.get(Estate, department.estate_id)
                out = await self.outgoing(session, department.estate_id)
                if estate is None or estate.managers_chat_id is None:
                    log.warning(
                        "department %s lost its group and there is no managers chat",
                        department.code,
                    )
                    continue
                _ = self.tr(out.ctx.language)
                await out.to_chat(
                    estate.managers_chat_id,
                    f"group-lost:{department.id}:{out.now.isoformat()}",
                    _(
                        "⚠️ The bot was removed from the group of {department}. Its new requests wait "
                        "until the bot is added back or an admin sends /bind {code} in another group."
                    ).format(department=h(department.name), code=department.code),
                )

    async def group_back(self, chat_id: int) -> None:
        async with self.transaction() as session:
            departments = (
                await session.scalars(select(Department).where(Department.chat_id == chat_id))
            ).all()
            for department in departments:
                department.chat_lost = False
