"""Revision 0005 moves claim reminders from a column per request to a mark: an estate upgraded
while requests are waiting is reminded of exactly what it was still owed, and a downgrade gives
the column back."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Integer, String, bindparam, column, func, select, table, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import FakeClock
from bot.estate import parse_estate
from bot.i18n import Translator, make_i18n
from bot.services.base import ServiceDeps
from bot.services.clock import ClockService
from bot.services.estate_apply import EstateApplier
from bot.services.tickets import TicketService
from storage.engine import make_sessionmaker
from storage.migrate import downgrade_engine, upgrade_engine
from storage.models import ClockMark, Outbox
from storage.types import UTCDateTime
from tests.conftest import database_url, drop_isolated, isolated_engine

ESTATE = Path(__file__).resolve().parent / "e2e" / "estate.toml"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
# The tickets table as revision 0004 has it, as far as these rows need.
TICKETS_0004 = table(
    "tickets",
    column("estate_id", Integer),
    column("kind", String),
    column("seq", Integer),
    column("number", String),
    column("department_id", Integer),
    column("place", String),
    column("description", String),
    column("emergency", Boolean),
    column("status", String),
    column("version", Integer),
    column("created_at", UTCDateTime()),
    column("claim_remind_at", UTCDateTime()),
    column("claim_due_at", UTCDateTime()),
    column("claim_reminded_at", UTCDateTime()),
    column("message_count", Integer),
    column("photo_count", Integer),
)


def deps_at(engine: AsyncEngine, now: datetime) -> ServiceDeps:
    return ServiceDeps(make_sessionmaker(engine), FakeClock(now), Translator(make_i18n()))


async def sweep_at(engine: AsyncEngine, now: datetime) -> dict[str, int]:
    deps = deps_at(engine, now)
    return (await ClockService(deps, TicketService(deps)).sweep()).counts


async def reminded(engine: AsyncEngine) -> list[str]:
    async with make_sessionmaker(engine)() as session:
        keys = await session.scalars(
            select(Outbox.key).where(Outbox.key.like("remind:%")).order_by(Outbox.id)
        )
        return list(keys)


def request_row(
    estate_id: int, department_id: int, seq: int, description: str, **values: Any
) -> dict[str, Any]:
    """A repair request's row as the migrations' tests insert it, before any revision's own
    columns (``values``: status, times, …)."""
    return {
        "estate_id": estate_id,
        "kind": "repair",
        "seq": seq,
        "number": f"R-{seq:06d}",
        "department_id": department_id,
        "place": "flat",
        "description": description,
        "emergency": False,
        "status": "new",
        "version": 1,
        "message_count": 0,
        "photo_count": 0,
        **values,
    }


async def seed_0004(engine: AsyncEngine) -> dict[str, int]:
    """Four requests as revision 0004 left them at NOW: reminded, closed before its reminder,
    due but not yet swept, and not due yet. Their ids by name."""
    deps = deps_at(engine, NOW)
    await EstateApplier(deps).apply(parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent))
    rows: list[tuple[str, str, int, bool]] = [  # name, status, reminder in minutes, reminded
        ("reminded", "new", -30, True),
        ("closed", "closed", -20, False),
        ("owed", "new", -10, False),
        ("ahead", "new", 10, False),
    ]
    ids: dict[str, int] = {}
    async with engine.begin() as connection:
        estate_id = await connection.scalar(text("SELECT id FROM estates"))
        department_id = await connection.scalar(
            text("SELECT id FROM departments WHERE code = 'plumbing'")
        )
        for seq, (name, status, minutes, was_reminded) in enumerate(rows, start=1):
            remind_at = NOW + timedelta(minutes=minutes)
            values = request_row(
                estate_id,
                department_id,
                seq,
                name,
                status=status,
                created_at=remind_at - timedelta(minutes=15),
                claim_remind_at=remind_at,
                claim_due_at=NOW + timedelta(hours=1),
                claim_reminded_at=remind_at if was_reminded else None,
            )
            await connection.execute(TICKETS_0004.insert().values(values))
            ids[name] = int(
                await connection.scalar(
                    text("SELECT id FROM tickets WHERE seq = :seq").bindparams(seq=seq)
                )
                or 0
            )
    return ids


async def test_an_estate_upgraded_mid_flight_is_reminded_of_what_it_was_owed(
    db_kind: str, tmp_path: Path
) -> None:
    engine = await isolated_engine(database_url(db_kind, tmp_path))
    try:
        await upgrade_engine(engine, "0004")
        ids = await seed_0004(engine)
        await upgrade_engine(engine, "0005")

        async with make_sessionmaker(engine)() as session:
            mark = (await session.execute(select(ClockMark.done_at, ClockMark.done_id))).one()
        assert mark.done_at == NOW - timedelta(minutes=10)
        assert mark.done_id == ids["owed"] - 1

        assert await sweep_at(engine, NOW) == {"claim_reminders": 1}
        assert await reminded(engine) == [f"remind:{ids['owed']}:claim"]
        assert await sweep_at(engine, NOW + timedelta(minutes=11)) == {"claim_reminders": 1}
        assert await sweep_at(engine, NOW + timedelta(minutes=12)) == {}
        assert await reminded(engine) == [
            f"remind:{ids['owed']}:claim",
            f"remind:{ids['ahead']}:claim",
        ]

        # Down again: every request up to the mark counts as reminded.
        await downgrade_engine(engine, "0004")
        async with engine.connect() as connection:
            marked = await connection.scalar(
                select(func.count())
                .select_from(TICKETS_0004)
                .where(TICKETS_0004.c.claim_reminded_at.is_not(None))
            )
            closed = await connection.scalar(
                select(TICKETS_0004.c.claim_reminded_at).where(
                    TICKETS_0004.c.description == bindparam("name")
                ),
                {"name": "closed"},
            )
        assert marked == 4
        assert closed == NOW - timedelta(minutes=20)
    finally:
        await drop_isolated(engine)
