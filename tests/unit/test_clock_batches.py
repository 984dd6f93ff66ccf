"""The clock's set-based steps, on SQLite and PostgreSQL: a backlog larger than a batch drains in
one sweep, each step once per ticket with the same messages as before, and sweeps running at
the same time (two processes' worth of engines) never double a step."""

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FakeClock
from bot.estate import parse_estate
from bot.i18n import Translator, make_i18n
from bot.services import clock as clock_module
from bot.services.base import ServiceDeps
from bot.services.clock import ClockService
from bot.services.context import EstateContext
from bot.services.estate_apply import EstateApplier
from bot.services.tickets import TicketService
from bot.ui import clock_texts
from storage.engine import make_engine, make_sessionmaker
from storage.models import ClockMark, Department, Estate, Outbox, Ticket, TicketEvent

ESTATE = Path(__file__).resolve().parents[1] / "e2e" / "estate.toml"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday morning in London: not quiet


def deps_for(engine: AsyncEngine) -> ServiceDeps:
    return ServiceDeps(make_sessionmaker(engine), FakeClock(NOW), Translator(make_i18n()))


async def seed(engine: AsyncEngine, due: int, overdue: int = 0) -> tuple[int, Department]:
    """``due`` new requests past their claim reminder (deadline ahead), ``overdue`` new ones
    past the claim deadline, and as many closed ones that must not be touched."""
    deps = deps_for(engine)
    await EstateApplier(deps).apply(parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent))
    async with deps.sessions.begin() as session:
        estate_id = int(await session.scalar(select(Estate.id)) or 0)
        department = (
            await session.scalars(select(Department).where(Department.code == "plumbing"))
        ).one()
        rows: list[dict[str, Any]] = []
        for i in range(1, due + overdue + due + 1):
            kind = "due" if i <= due else "overdue" if i <= due + overdue else "closed"
            created = NOW - timedelta(minutes=20 if kind != "overdue" else 90, seconds=i)
            rows.append(
                {
                    "estate_id": estate_id,
                    "kind": "repair",
                    "seq": i,
                    "number": f"R-{i:06d}",
                    "department_id": department.id,
                    "place": "flat",
                    "description": f"generated {i}",
                    "emergency": False,
                    "status": "closed" if kind == "closed" else "new",
                    "version": 1,
                    "created_at": created,
                    "claim_remind_at": created + timedelta(minutes=10),
                    "claim_due_at": created + timedelta(minutes=30),
                    "message_count": 0,
                    "photo_count": 0,
                }
            )
        await session.execute(insert(Ticket), rows)
    return estate_id, department


async def reminders(engine: AsyncEngine) -> list[Outbox]:
    async with make_sessionmaker(engine)() as session:
        return list(
            (
                await session.scalars(
                    select(Outbox).where(Outbox.key.like("remind:%")).order_by(Outbox.id)
                )
            ).all()
        )


async def test_a_backlog_larger_than_a_batch_drains_in_one_sweep_once_each(
    engine: AsyncEngine, monkeypatch: Any
) -> None:
    monkeypatch.setattr(clock_module, "BATCH", 100)  # 350 due: four batches
    monkeypatch.setattr(clock_module, "MARKED_BATCH", 100)
    estate_id, department = await seed(engine, due=350, overdue=120)
    deps = deps_for(engine)
    clock = ClockService(deps, TicketService(deps))

    report = await clock.sweep()
    assert report.counts == {"claim_reminders": 350, "claim_overdue": 120}
    queued = await reminders(engine)
    assert len(queued) == 350
    assert len({row.key for row in queued}) == 350

    # The row is queued unwritten; the sender has it written just before sending, with the
    # text the per-ticket step wrote before (Outgoing.to_department).
    async with deps.sessions() as session:
        estate = await session.get(Estate, estate_id)
        assert estate is not None
        ctx = EstateContext.of(estate)
        ticket = await session.get(Ticket, queued[0].ticket_id)
        assert ticket is not None
        _ = deps.translator.for_locale(ctx.language)
        first = queued[0]
        assert first.key == f"remind:{ticket.id}:claim"
        assert first.chat_id == department.chat_id and first.thread_id == department.thread_id
        assert first.payload == {"render": "claim_reminder", "reply_to_card": True}
        written = clock_texts.claim_reminder(_, ticket, ctx.tz)
        assert first.urgent and first.status == "pending" and first.op == "send"
        assert first.next_attempt_at == NOW and first.estate_id == estate_id
        # The mark has passed every request due by now, the overdue ones too (without a
        # message); the latest due is the newest request, queued last.
        mark = (await session.execute(select(ClockMark.done_at, ClockMark.done_id))).one()
        latest = (
            await session.execute(
                select(Ticket.claim_remind_at, Ticket.id)
                .where(Ticket.status == "new")
                .order_by(Ticket.claim_remind_at.desc(), Ticket.id.desc())
                .limit(1)
            )
        ).one()
        assert tuple(mark) == tuple(latest) and latest.id == queued[-1].ticket_id
        alerts = (await session.scalars(select(Outbox).where(Outbox.key.like("overdue:%")))).all()
        assert len(alerts) == 120
        assert all("was not taken" in a.payload["text"] for a in alerts)
        assert all(a.payload["markup"] is not None for a in alerts)  # "Assign to…"
        events = await session.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.event == "overdue_claim")
        )
        assert events == 120
        closed = select(Ticket.id).where(Ticket.status == "closed")
        untouched = await session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.ticket_id.in_(closed))
        )
        assert untouched == 0

    assert await clock.render("claim_reminder", first.ticket_id or 0) == {"text": written}
    assert (await clock.sweep()).counts == {}
    assert len(await reminders(engine)) == 350


async def second_engine(engine: AsyncEngine) -> AsyncEngine:
    """Another engine (its own connections, as another process has) on the same database."""
    if engine.dialect.name != "postgresql":
        return make_engine(str(engine.url))
    async with engine.connect() as connection:
        schema = await connection.scalar(text("SELECT current_schema()"))
    return make_engine(
        engine.url.render_as_string(hide_password=False),
        connect_args={"server_settings": {"search_path": str(schema)}},
    )


async def test_sweeps_running_at_the_same_time_take_each_step_once(
    engine: AsyncEngine, monkeypatch: Any
) -> None:
    monkeypatch.setattr(clock_module, "BATCH", 50)
    monkeypatch.setattr(clock_module, "MARKED_BATCH", 50)
    await seed(engine, due=400, overdue=100)
    other = await second_engine(engine)
    try:
        sweepers = []
        for each in (engine, other, engine, other):
            deps = deps_for(each)
            sweepers.append(ClockService(deps, TicketService(deps)))
        reports = await asyncio.gather(*(s.sweep() for s in sweepers))
        assert sum(r.counts.get("claim_reminders", 0) for r in reports) == 400
        assert sum(r.counts.get("claim_overdue", 0) for r in reports) == 100
        queued = await reminders(engine)
        assert len(queued) == 400 and len({row.ticket_id for row in queued}) == 400
        async with make_sessionmaker(engine)() as session:
            events = await session.scalar(
                select(func.count(TicketEvent.id)).where(TicketEvent.event == "overdue_claim")
            )
            assert events == 100  # one audit event each, not one per sweeper
        again = await asyncio.gather(*(s.sweep() for s in sweepers))
        assert all(r.counts == {} for r in again)
    finally:
        await other.dispose()


async def test_requests_due_at_the_same_instant_across_batches_are_each_reminded_once(
    engine: AsyncEngine, monkeypatch: Any
) -> None:
    """The mark is (reminder time, id): a batch that ends among requests due at the same instant
    leaves the rest of them to the next batch, none twice and none skipped."""
    monkeypatch.setattr(clock_module, "MARKED_BATCH", 3)
    await seed(engine, due=7)
    deps = deps_for(engine)
    async with deps.sessions.begin() as session:
        same = NOW - timedelta(minutes=5)
        await session.execute(
            update(Ticket).where(Ticket.status == "new").values(claim_remind_at=same)
        )
    clock = ClockService(deps, TicketService(deps))

    assert (await clock.sweep()).counts == {"claim_reminders": 7}
    queued = await reminders(engine)
    ids = [row.ticket_id or 0 for row in queued]
    assert len(set(ids)) == len(ids) == 7
    assert ids == sorted(ids)  # same instant: in id order
    assert (await clock.sweep()).counts == {}
