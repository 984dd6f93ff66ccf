"""Satisfaction polls and the calls owed to residents (48 h after a repair, same-day follow-ups)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import Service
from bot.services.notify import Outgoing
from bot.ui import clock_texts, keyboards
from bot.ui.format import local_time
from storage import repo
from storage.models import Callback, Poll, Ticket

STEPS = ("overall", "attitude", "quality", "timeliness", "comment")
LOW_SCORE = 2


@dataclass
class PollStep:
    ok: bool
    poll_id: int = 0
    next_question: str | None = None  # None: the poll is complete
    number: str = ""


@dataclass
class CallbackList:
    text: str
    entries: list[tuple[int, str]]


async def open_poll(
    session: AsyncSession, out: Outgoing, ticket: Ticket, translate: Service
) -> None:
    """Queue the poll after a closed repair or an answered complaint (held in quiet hours)."""
    resident = ticket.resident
    if resident is None or await session.scalar(select(Poll.id).where(Poll.ticket_id == ticket.id)):
        return
    poll = Poll(
        ticket_id=ticket.id,
        resident_id=resident.id,
        created_at=out.now,
        remind_at=out.now + out.ctx.clock["poll_reminder"].delta,
        expires_at=out.now + out.ctx.clock["poll_expiry"].delta,
    )
    session.add(poll)
    await session.flush()
    _ = translate.tr(resident.language)
    await out.to_resident(
        resident,
        f"poll:{poll.id}",
        clock_texts.poll_question(_, ticket.number, "overall"),
        ticket=ticket,
        markup=keyboards.poll_markup(_, poll.id, "overall"),
        urgent=ticket.emergency,
    )


async def owe_callback(
    session: AsyncSession, ticket: Ticket, reason: str, due: datetime, now: datetime
) -> None:
    exists = await session.scalar(
        select(Callback.id).where(
            Callback.ticket_id == ticket.id, Callback.reason == reason, Callback.done_at.is_(None)
        )
    )
    if exists is None:
        session.add(Callback(ticket_id=ticket.id, reason=reason, created_at=now, due_at=due))


async def follow_up(
    session: AsyncSession, out: Outgoing, ticket: Ticket, translate: Service, text: str, key: str
) -> None:
    """A low rating or "Not fixed": the managers hear at once, and someone calls today."""
    due = out.ctx.calendar.end_of_working_day(out.now)
    existing = await session.scalar(
        select(Callback).where(Callback.ticket_id == ticket.id, Callback.reason == "follow_up")
    )
    if existing is None:
        session.add(
            Callback(ticket_id=ticket.id, reason="follow_up", created_at=out.now, due_at=due)
        )
    elif existing.done_at is not None:
        existing.done_at, existing.done_via, existing.due_at = None, None, due
    if out.ctx.managers_chat_id is not None:
        await out.to_chat(out.ctx.managers_chat_id, key, text, ticket=ticket)


class FeedbackService(Service):
    async def answer(self, telegram_id: int, poll_id: int, question: str, score: int) -> PollStep:
        async with self.transaction() as session:
            poll = await session.get(Poll, poll_id)
            resident = await repo.resident_by_telegram(session, telegram_id)
            if poll is None or resident is None or poll.resident_id != resident.id:
                return PollStep(False)
            if poll.status != "open" or poll.step != question or question not in STEPS[:4]:
                return PollStep(False)
            if not 0 <= score <= 5 or (question == "overall" and score == 0):
                return PollStep(False)
            setattr(poll, question, score or None)
            poll.step = STEPS[STEPS.index(question) + 1]
            poll.remind_at = None
            out = await self.outgoing(session, poll.ticket.estate_id)
            if question == "overall":
                poll.answered_at = out.now
                await self._fulfil(session, poll.ticket_id, out.now)
                if score <= LOW_SCORE:
                    _ = self.tr(out.ctx.language)
                    await follow_up(
                        session,
                        out,
                        poll.ticket,
                        self,
                        clock_texts.low_rating_alert(_, poll.ticket, score, None),
                        f"low:{poll.id}",
                    )
            return PollStep(True, poll.id, poll.step, poll.ticket.number)

    async def comment(self, telegram_id: int, poll_id: int, text: str | None) -> PollStep:
        async with self.transaction() as session:
            poll = await session.get(Poll, poll_id)
            resident = await repo.resident_by_telegram(session, telegram_id)
            if (
                poll is None
                or resident is None
                or poll.resident_id != resident.id
                or poll.step != "comment"
            ):
                return PollStep(False)
            poll.comment = text[:2000] if text else None
            poll.step, poll.status = "done", "answered"
            out = await self.outgoing(session, poll.ticket.estate_id)
            if (
                text
                and poll.overall is not None
                and poll.overall <= LOW_SCORE
                and out.ctx.managers_chat_id
            ):
                _ = self.tr(out.ctx.language)
                await out.to_chat(
                    out.ctx.managers_chat_id,
                    f"low-comment:{poll.id}",
                    clock_texts.low_rating_alert(_, poll.ticket, poll.overall, text),
                    ticket=poll.ticket,
                )
            return PollStep(True, poll.id, None, poll.ticket.number)

    async def due_callbacks(self, telegram_id: int, locale: str) -> CallbackList | None:
        """The dispatcher's list: open callbacks, most urgent first, with whom to call."""
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            if staff is None or staff.role not in ("dispatcher", "manager", "admin"):
                return None
            out = await self.outgoing(session, staff.estate_id)
            rows = (
                await session.scalars(
                    select(Callback)
                    .join(Ticket)
                    .where(Callback.done_at.is_(None), Ticket.estate_id == staff.estate_id)
                    .order_by(Callback.due_at)
                    .limit(30)
                )
            ).all()
            _ = self.tr(locale)
            lines, entries = [], []
            for callback in rows:
                resident = callback.ticket.resident
                lines.append(
                    clock_texts.callback_line(
                        _,
                        callback.ticket.number,
                        (resident.name if resident else None) or "—",
                        (resident.phone if resident else None) or "—",
                        local_time(callback.due_at, out.ctx.tz),
                        callback.reason,
                    )
                )
                entries.append((callback.id, callback.ticket.number))
            return CallbackList(clock_texts.callbacks_list(_, lines), entries)

    async def called_back(self, telegram_id: int, callback_id: int) -> bool:
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            callback = await session.get(Callback, callback_id)
            if (
                staff is None
                or callback is None
                or staff.role not in ("dispatcher", "manager", "admin")
            ):
                return False
            if callback.ticket.estate_id != staff.estate_id or callback.done_at is not None:
                return False
            callback.done_at, callback.done_via, callback.done_by = (
                self.deps.clock.now(),
                "staff",
                staff.id,
            )
            return True

    async def _fulfil(self, session: AsyncSession, ticket_id: int, now: datetime) -> None:
        rows = (
            await session.scalars(
                select(Callback).where(
                    Callback.ticket_id == ticket_id,
                    Callback.reason == "after_repair",
                    Callback.done_at.is_(None),
                )
            )
        ).all()
        for callback in rows:
            callback.done_at, callback.done_via = now, "poll"


def after_repair_due(now: datetime, span: timedelta) -> datetime:
    return now + span
