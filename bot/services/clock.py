"""The clock's use cases: each reads due work and applies it once.

Every step claims its row with a conditional update (``... where <done-column> is null``), so a
level of the escalation ladder happens once, whichever process gets there first, and never after
the ticket has moved on (the status is part of the condition).
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram.types import InlineKeyboardButton
from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.lifecycle import AWAITING_CONFIRMATION, Event, Status
from bot.services.base import Service
from bot.services.context import EstateContext
from bot.services.notify import Outgoing
from bot.services.tickets import TicketService
from bot.ui import clock_texts, keyboards
from bot.ui.callbacks import LeadAct
from storage.models import Estate, Poll, Ticket, TicketEvent

log = logging.getLogger(__name__)

NOT_YET_CLAIMED = [Status.NEW.value]
NOT_ON_SITE = [Status.NEW.value, Status.CLAIMED.value]
NOT_RESOLVED = [s.value for s in Status if s.is_open and s not in AWAITING_CONFIRMATION]
AWAITING = [s.value for s in AWAITING_CONFIRMATION]
BATCH = 500


@dataclass
class SweepReport:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int) -> None:
        if count:
            self.counts[name] = self.counts.get(name, 0) + count


class ClockService(Service):
    def __init__(self, deps: Any, tickets: TicketService) -> None:
        super().__init__(deps)
        self.tickets = tickets

    async def sweep(self) -> SweepReport:
        """Everything due now, in the order the ladder climbs."""
        report = SweepReport()
        now = self.deps.clock.now()
        report.add("claim_reminders", await self.claim_reminders(now))
        report.add("claim_overdue", await self.overdue(now, "claim"))
        report.add("on_site_overdue", await self.overdue(now, "on_site"))
        report.add("technician_reminders", await self.technician_reminders(now))
        report.add("resolve_overdue", await self.overdue(now, "resolve"))
        report.add("resumed", await self.resume_holds(now))
        report.add("confirm_reminders", await self.confirm_reminders(now))
        report.add("auto_closed", await self.auto_close(now))
        report.add("poll_reminders", await self.poll_reminders(now))
        report.add("polls_expired", await self.expire_polls(now))
        return report

    # ---- the ladder ----------------------------------------------------------------------
    async def claim_reminders(self, now: datetime) -> int:
        candidates = await self._ids(
            Ticket.status.in_(NOT_YET_CLAIMED),
            Ticket.claim_remind_at <= now,
            Ticket.claim_reminded_at.is_(None),
        )
        done = 0
        for ticket_id in candidates:
            async with self.transaction() as session:
                ticket = await self._claim_step(
                    session,
                    ticket_id,
                    Ticket.claim_reminded_at,
                    now,
                    Ticket.status.in_(NOT_YET_CLAIMED),
                )
                if ticket is None:
                    continue
                out = await self.outgoing(session, ticket.estate_id)
                if ticket.claim_due_at is not None and ticket.claim_due_at <= now:
                    continue  # past the deadline already: the alert below says it all
                _ = self.tr(out.ctx.language)
                await out.to_department(
                    ticket.department,
                    f"remind:{ticket.id}:claim",
                    clock_texts.claim_reminder(_, ticket, out.ctx.tz),
                    ticket=ticket,
                    reply_to_card=True,
                )
                done += 1
        return done

    async def overdue(self, now: datetime, level: str) -> int:
        due_column, done_column, still = {
            "claim": (
                Ticket.claim_due_at,
                Ticket.claim_overdue_at,
                Ticket.status.in_(NOT_YET_CLAIMED),
            ),
            "on_site": (
                Ticket.on_site_due_at,
                Ticket.on_site_overdue_at,
                Ticket.status.in_(NOT_ON_SITE) & Ticket.on_site_at.is_(None),
            ),
            "resolve": (
                Ticket.resolve_due_at,
                Ticket.resolve_overdue_at,
                Ticket.status.in_(NOT_RESOLVED),
            ),
        }[level]
        candidates = await self._ids(still, due_column <= now, done_column.is_(None))
        done = 0
        for ticket_id in candidates:
            async with self.transaction() as session:
                ticket = await self._claim_step(session, ticket_id, done_column, now, still)
                if ticket is None:
                    continue
                session.add(
                    TicketEvent(
                        ticket_id=ticket.id, at=now, event=f"overdue_{level}", actor_kind="system"
                    )
                )
                out = await self.outgoing(session, ticket.estate_id)
                await self._alert_managers(
                    out,
                    ticket,
                    f"overdue:{ticket.id}:{level}",
                    clock_texts.overdue_alert(self.tr(out.ctx.language), ticket, level, out.ctx.tz),
                    assign=True,
                )
                done += 1
        return done

    async def technician_reminders(self, now: datetime) -> int:
        still = Ticket.status.in_(
            [Status.CLAIMED.value, Status.ON_THE_WAY.value]
        ) & Ticket.started_at.is_(None)
        candidates = await self._ids(
            still, Ticket.on_site_due_at <= now, Ticket.technician_reminded_at.is_(None)
        )
        done = 0
        for ticket_id in candidates:
            async with self.transaction() as session:
                ticket = await self._claim_step(
                    session, ticket_id, Ticket.technician_reminded_at, now, still
                )
                if ticket is None or ticket.assignee is None:
                    continue
                out = await self.outgoing(session, ticket.estate_id)
                staff = ticket.assignee
                _ = self.tr(staff.language or out.ctx.language)
                text = clock_texts.technician_reminder(_, ticket, out.ctx.tz)
                if staff.has_private_chat:
                    await out.to_chat(
                        staff.telegram_id, f"remind:{ticket.id}:technician", text, ticket=ticket
                    )
                else:
                    await out.to_department(
                        ticket.department,
                        f"remind:{ticket.id}:technician",
                        text,
                        ticket=ticket,
                        reply_to_card=True,
                    )
                done += 1
        return done

    async def resume_holds(self, now: datetime) -> int:
        candidates = await self._ids(
            Ticket.status == Status.ON_HOLD.value, Ticket.hold_until <= now
        )
        done = 0
        for ticket_id in candidates:
            result = await self.tickets.act(None, ticket_id, Event.RESUME)
            if not result.ok:
                continue
            async with self.transaction() as session:
                ticket = await session.get(Ticket, ticket_id)
                assert ticket is not None
                out = await self.outgoing(session, ticket.estate_id)
                await out.to_department(
                    ticket.department,
                    f"resumed:{ticket.id}:v{ticket.version}",
                    clock_texts.resumed(self.tr(out.ctx.language), ticket),
                    ticket=ticket,
                    reply_to_card=True,
                )
            done += 1
        return done

    # ---- after resolution ---------------------------------------------------------------
    async def confirm_reminders(self, now: datetime) -> int:
        done = 0
        for estate_id, span in await self._estate_spans("resolved_reminder"):
            still = Ticket.status.in_(AWAITING)
            candidates = await self._ids(
                still,
                Ticket.estate_id == estate_id,
                Ticket.resolved_at <= now - span,
                Ticket.confirm_reminded_at.is_(None),
            )
            for ticket_id in candidates:
                async with self.transaction() as session:
                    ticket = await self._claim_step(
                        session, ticket_id, Ticket.confirm_reminded_at, now, still
                    )
                    if ticket is None or ticket.resident is None:
                        continue
                    out = await self.outgoing(session, ticket.estate_id)
                    _ = self.tr(ticket.resident.language)
                    await out.to_resident(
                        ticket.resident,
                        f"confirm-reminder:{ticket.id}:v{ticket.version}",
                        clock_texts.confirm_reminder(_, ticket),
                        ticket=ticket,
                        markup=keyboards.confirm_fix(_, ticket.id, ticket.kind),
                        urgent=ticket.emergency,
                    )
                    done += 1
        return done

    async def auto_close(self, now: datetime) -> int:
        done = 0
        for estate_id, span in await self._estate_spans("auto_close"):
            candidates = await self._ids(
                Ticket.status.in_(AWAITING),
                Ticket.estate_id == estate_id,
                Ticket.resolved_at <= now - span,
            )
            for ticket_id in candidates:
                done += (await self.tickets.act(None, ticket_id, Event.AUTO_CLOSE)).ok
        return done

    async def poll_reminders(self, now: datetime) -> int:
        candidates = await self._select_ids(
            select(Poll.id).where(Poll.status == "open", Poll.remind_at <= now).limit(BATCH)
        )
        done = 0
        for poll_id in candidates:
            async with self.transaction() as session:
                claimed = await session.execute(
                    update(Poll)
                    .where(Poll.id == poll_id, Poll.status == "open", Poll.remind_at.is_not(None))
                    .values(remind_at=None)
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                poll = await session.get(Poll, poll_id)
                assert poll is not None
                ticket = poll.ticket
                if ticket.resident is None:
                    continue
                out = await self.outgoing(session, ticket.estate_id)
                _ = self.tr(ticket.resident.language)
                await out.to_resident(
                    ticket.resident,
                    f"poll-reminder:{poll.id}",
                    clock_texts.poll_reminder(_, ticket.number),
                    ticket=ticket,
                    markup=keyboards.poll_markup(_, poll.id, poll.step),
                )
                done += 1
        return done

    async def expire_polls(self, now: datetime) -> int:
        async with self.transaction() as session:
            result = await session.execute(
                update(Poll)
                .where(Poll.status == "open", Poll.expires_at <= now)
                .values(status="expired")
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def tick_seconds(self) -> float:
        """How often to sweep: the shortest ``[clock] tick`` of the estates (30 s by default)."""
        spans = await self._estate_spans("tick")
        return min((span.total_seconds() for _, span in spans), default=30.0)

    # ---- helpers --------------------------------------------------------------------------
    async def _ids(self, *conditions: ColumnElement[bool]) -> Sequence[int]:
        return await self._select_ids(
            select(Ticket.id).where(*conditions).order_by(Ticket.id).limit(BATCH)
        )

    async def _select_ids(self, query: Any) -> Sequence[int]:
        async with self.transaction() as session:
            return list((await session.scalars(query)).all())

    async def _claim_step(
        self,
        session: AsyncSession,
        ticket_id: int,
        column: Any,
        now: datetime,
        still: ColumnElement[bool],
    ) -> Ticket | None:
        """Take this step for this ticket, unless another process took it or the ticket moved on."""
        result = await session.execute(
            update(Ticket)
            .where(Ticket.id == ticket_id, column.is_(None), still)
            .values({column.key: now})
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        ticket = await session.get(Ticket, ticket_id)
        if ticket is not None:
            await session.refresh(ticket)
        return ticket

    async def _estate_spans(self, name: str) -> list[tuple[int, timedelta]]:
        async with self.transaction() as session:
            estates = (await session.scalars(select(Estate))).all()
            return [(e.id, EstateContext.of(e).clock[name].delta) for e in estates]

    async def _alert_managers(
        self, out: Outgoing, ticket: Ticket, key: str, text: str, assign: bool
    ) -> None:
        chat = out.ctx.managers_chat_id
        if chat is None:
            log.warning("estate %s has no managers chat: alert %s not delivered", out.ctx.id, key)
            return
        _ = self.tr(out.ctx.language)
        markup = (
            keyboards.inline(
                [
                    InlineKeyboardButton(
                        text=_("👤 Assign to…"),
                        callback_data=LeadAct(action="assign", ticket_id=ticket.id).pack(),
                    )
                ]
            )
            if assign
            else None
        )
        await out.to_chat(chat, key, text, ticket=ticket, markup=markup)
