"""The managers' daily digest at the estate's digest hour, and the weekly summary on Mondays."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.calendar import local_instant
from bot.services.base import Service
from bot.services.context import EstateContext
from bot.services.notify import Outgoing
from bot.ui import clock_texts
from storage.models import Callback, Department, Estate, Outbox, Poll, Ticket
from storage.repo import IS_OPEN


@dataclass
class Figures:
    per_department: list[tuple[str, int, int]]  # name, new, closed
    overdue_now: int
    satisfied: int
    answers: int
    callbacks_due: int
    callbacks_on_time: int
    callbacks_total: int


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Open and past any of its deadlines (the same rule /overdue and the digest use)."""
    return and_(
        IS_OPEN,
        or_(
            and_(Ticket.status == "new", Ticket.claim_due_at < now),
            and_(
                Ticket.on_site_at.is_(None),
                Ticket.status.in_(["new", "claimed"]),
                Ticket.on_site_due_at < now,
            ),
            and_(Ticket.status.not_in(["resolved", "answered"]), Ticket.resolve_due_at < now),
        ),
    )


async def figures(
    session: AsyncSession,
    estate_id: int,
    start: datetime,
    end: datetime,
    now: datetime,
    due_by: datetime,
) -> Figures:
    new = func.sum(case((and_(Ticket.created_at >= start, Ticket.created_at < end), 1), else_=0))
    closed = func.sum(case((and_(Ticket.closed_at >= start, Ticket.closed_at < end), 1), else_=0))
    rows = (
        await session.execute(
            select(Department.name, func.coalesce(new, 0), func.coalesce(closed, 0))
            .select_from(Department)
            .outerjoin(Ticket, Ticket.department_id == Department.id)
            .where(Department.estate_id == estate_id, Department.active.is_(True))
            .group_by(Department.id, Department.name)
            .order_by(Department.name)
        )
    ).all()
    overdue = await session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.estate_id == estate_id, overdue_condition(now))
    )
    week_ago = now - timedelta(days=7)
    satisfied, answers = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((Poll.overall >= 4, 1), else_=0)), 0),
                func.count(Poll.id),
            )
            .join(Ticket, Ticket.id == Poll.ticket_id)
            .where(
                Ticket.estate_id == estate_id,
                Poll.overall.is_not(None),
                Poll.answered_at >= week_ago,
            )
        )
    ).one()
    callbacks_due = await session.scalar(
        select(func.count())
        .select_from(Callback)
        .join(Ticket, Ticket.id == Callback.ticket_id)
        .where(Ticket.estate_id == estate_id, Callback.done_at.is_(None), Callback.due_at < due_by)
    )
    on_time, total = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            (
                                and_(
                                    Callback.done_at.is_not(None),
                                    Callback.done_at <= Callback.due_at,
                                ),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
                func.count(Callback.id),
            )
            .join(Ticket, Ticket.id == Callback.ticket_id)
            .where(
                Ticket.estate_id == estate_id,
                Callback.reason == "after_repair",
                Callback.due_at >= start,
                Callback.due_at < end,
            )
        )
    ).one()
    return Figures(
        [(n, int(a), int(b)) for n, a, b in rows],
        int(overdue or 0),
        int(satisfied),
        int(answers),
        int(callbacks_due or 0),
        int(on_time),
        int(total),
    )


class DigestService(Service):
    async def send_due(self) -> int:
        now = self.deps.clock.now()
        async with self.transaction() as session:
            estates = (
                await session.scalars(select(Estate).where(Estate.managers_chat_id.is_not(None)))
            ).all()
        return sum([await self._estate(estate.id, now) for estate in estates])

    async def _estate(self, estate_id: int, now: datetime) -> int:
        async with self.transaction() as session:
            estate = await session.get(Estate, estate_id)
            assert estate is not None and estate.managers_chat_id is not None
            ctx = EstateContext.of(estate)
            tz = ZoneInfo(ctx.tz)
            hour = time.fromisoformat(
                (estate.settings or {}).get("clock", {}).get("digest_at", "09:00")
            )
            today = now.astimezone(tz).date()
            if now < local_instant(today, hour, tz):
                return 0
            sent = 0
            out = Outgoing(session, ctx, now)
            key = f"digest:{estate.id}:{today.isoformat()}"
            if not await _queued(session, key):
                start, end = _day(today - timedelta(days=1), tz)
                data = await figures(session, estate.id, start, end, now, _day(today, tz)[1])
                _ = self.tr(ctx.language)
                await out.to_chat(
                    estate.managers_chat_id,
                    key,
                    clock_texts.digest(_, today - timedelta(days=1), data, weekly=False),
                )
                sent += 1
            weekly_key = f"weekly:{estate.id}:{today.isoformat()}"
            if today.weekday() == 0 and not await _queued(session, weekly_key):
                start, _end = _day(today - timedelta(days=7), tz)
                end = _day(today, tz)[0]
                data = await figures(session, estate.id, start, end, now, _day(today, tz)[1])
                _ = self.tr(ctx.language)
                await out.to_chat(
                    estate.managers_chat_id,
                    weekly_key,
                    clock_texts.digest(_, today - timedelta(days=7), data, weekly=True),
                )
                sent += 1
            return sent


async def _queued(session: AsyncSession, key: str) -> bool:
    return await session.scalar(select(Outbox.id).where(Outbox.key == key)) is not None


def _day(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = local_instant(day, time(0, 0), tz)
    end = local_instant(day + timedelta(days=1), time(0, 0), tz)
    return start.astimezone(UTC), end.astimezone(UTC)
