"""Benchmark: /stats for a quarter over a million generated requests, on SQLite and PostgreSQL.

Not a test. Generates the rows with one INSERT ... SELECT per table (a recursive CTE on SQLite,
generate_series on PostgreSQL), then times the figures of /stats (every query of
``bot.services.stats.compute``) and the aggregates of /report for the quarter.

    python bench/stats_bench.py                       # both databases, 1,000,000 requests
    python bench/stats_bench.py --rows 200000 --only sqlite
    TEST_POSTGRES_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/test python bench/stats_bench.py

PostgreSQL runs in a schema of its own that is dropped afterwards; SQLite in a temporary file.
"""

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.domain.clock import FakeClock  # noqa: E402
from bot.estate import parse_estate  # noqa: E402
from bot.i18n import Translator, make_i18n  # noqa: E402
from bot.services.base import ServiceDeps  # noqa: E402
from bot.services.estate_apply import EstateApplier  # noqa: E402
from bot.services.reports import per_day, satisfaction_trend, sla_by_department  # noqa: E402
from bot.services.stats import StatsService, cohort, compute, make_period  # noqa: E402
from storage.dialects import dialect_of  # noqa: E402
from storage.engine import make_engine, make_sessionmaker  # noqa: E402
from storage.models import Base  # noqa: E402

ESTATE = ROOT / "tests" / "e2e" / "estate.toml"
YEAR_START = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
QUARTER = make_period(date(2026, 10, 1), date(2026, 12, 31), "Europe/London")
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")

# One request every ~31.5 s over 2026 (1,000,000 of them); kinds 70% repair, 10% each of
# complaint, question, suggestion; 90% claimed, 60% reached on site, 80% resolved. Each step's
# duration is stored with it, as the service writes it (whole seconds: the instants are whole).
TICKET_COLUMNS = """
    estate_id, kind, seq, number, category_id, department_id, resident_id, flat_id, building_id,
    place, description, emergency, status, version, created_at, claimed_at, on_site_at,
    resolved_at, closed_at, claim_due_at, on_site_due_at, resolve_due_at, message_count,
    photo_count, claim_seconds, on_site_seconds, resolve_seconds
"""


def ticket_select(dialect: str, rows: int, ids: dict[str, Any]) -> str:
    """The SELECT producing every generated request from a sequence ``i`` of 1..rows."""
    step = 365 * 86400 / rows
    base = int(YEAR_START.timestamp())
    if dialect == "postgresql":
        series = f"generate_series(1::bigint, {rows}) AS g(i)"

        def ts(seconds: str) -> str:
            return f"to_timestamp({base} + {seconds})"

        integer = "bigint"
    else:
        series = "seq"

        def ts(seconds: str) -> str:
            return f"strftime('%Y-%m-%d %H:%M:%S', {base} + {seconds}, 'unixepoch') || '.000000'"

        integer = "integer"
    created = f"CAST(i * {step} AS {integer})"
    kind = "CASE WHEN i % 10 < 7 THEN 'repair' WHEN i % 10 = 7 THEN 'complaint' WHEN i % 10 = 8 THEN 'question' ELSE 'suggestion' END"
    category = (
        f"CASE WHEN i % 10 < 7 THEN (CASE WHEN i % 3 = 0 THEN {ids['leak']} WHEN i % 3 = 1 THEN {ids['light']} ELSE {ids['flood']} END) "
        f"WHEN i % 10 = 7 THEN {ids['noise']} WHEN i % 10 = 8 THEN {ids['general_question']} ELSE NULL END"
    )
    department = (
        f"CASE WHEN i % 10 < 7 THEN (CASE WHEN i % 3 = 1 THEN {ids['electrical']} ELSE {ids['plumbing']} END) "
        f"ELSE {ids['customer_service']} END"
    )
    claim = "(i * 7919) % 5400"
    number = "'R-' || i" if dialect == "sqlite" else "'R-' || i::text"
    return f"""
        SELECT {ids["estate"]}, {kind}, i, {number}, {category}, {department},
               NULL, {ids["flat"]}, {ids["building"]}, 'flat', 'generated', i % 3 = 2 AND i % 10 < 7,
               CASE WHEN i % 5 = 0 THEN 'new' ELSE 'closed' END, 1,
               {ts(created)},
               CASE WHEN i % 10 = 9 THEN NULL ELSE {ts(f"{created} + {claim}")} END,
               CASE WHEN i % 5 < 3 AND i % 10 < 7 THEN {ts(f"{created} + {claim} + (i % 7200)")} ELSE NULL END,
               CASE WHEN i % 5 = 0 THEN NULL ELSE {ts(f"{created} + {claim} + (i * 31) % 300000")} END,
               CASE WHEN i % 5 = 0 THEN NULL ELSE {ts(f"{created} + 400000")} END,
               {ts(f"{created} + 1800")},
               CASE WHEN i % 3 = 2 AND i % 10 < 7 THEN {ts(f"{created} + 900")} ELSE NULL END,
               {ts(f"{created} + 259200")},
               0, 0,
               CASE WHEN i % 10 = 9 THEN NULL ELSE {claim} END,
               CASE WHEN i % 5 < 3 AND i % 10 < 7 THEN {claim} + (i % 7200) ELSE NULL END,
               CASE WHEN i % 5 = 0 THEN NULL ELSE {claim} + (i * 31) % 300000 END
        FROM {series}
    """


async def ids_of(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        found: dict[str, Any] = {"estate": await connection.scalar(text("SELECT id FROM estates"))}
        for table in ("categories", "departments"):
            rows = await connection.execute(text(f"SELECT code, id FROM {table}"))
            found.update({code: id_ for code, id_ in rows})
        found["flat"], found["building"] = (
            await connection.execute(text("SELECT id, building_id FROM flats ORDER BY id LIMIT 1"))
        ).one()
    return found


async def generate(engine: AsyncEngine, rows: int) -> None:
    dialect = engine.dialect.name
    ids = await ids_of(engine)
    async with engine.begin() as connection:
        select = ticket_select(dialect, rows, ids)
        if dialect == "sqlite":
            select = (
                f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {rows}) "
                + select
            )
        await connection.execute(text(f"INSERT INTO tickets ({TICKET_COLUMNS}) {select}"))
        # Polls for every tenth closed request, callbacks for every tenth repair, some outbox.
        await connection.execute(
            text(
                "INSERT INTO polls (ticket_id, status, step, created_at, expires_at, answered_at, overall) "
                "SELECT id, 'answered', 'attitude', closed_at, closed_at, closed_at, 1 + id % 5 "
                "FROM tickets WHERE closed_at IS NOT NULL AND id % 10 = 1"
            )
        )
        done = "CASE WHEN id % 4 = 0 THEN NULL ELSE resolve_due_at END"
        await connection.execute(
            text(
                "INSERT INTO callbacks (ticket_id, reason, created_at, due_at, done_at) "
                f"SELECT id, 'after_repair', resolve_due_at, resolve_due_at, {done} "
                "FROM tickets WHERE kind = 'repair' AND id % 10 = 3"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO outbox (key, estate_id, chat_id, op, payload, status, attempts, next_attempt_at, created_at, urgent) "
                "SELECT 'bench:' || id, estate_id, -1001, 'send', '{}', 'failed', 8, created_at, created_at, "
                + ("false" if dialect == "postgresql" else "0")
                + " FROM tickets WHERE id % 100 = 7"
            )
        )
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


async def timed(label: str, work: Callable[[], Awaitable[Any]]) -> Any:
    start = time.perf_counter()
    result = await work()
    print(f"  {label:<42} {time.perf_counter() - start:8.3f} s")
    return result


async def bench(engine: AsyncEngine, rows: int) -> None:
    name = engine.dialect.name
    print(f"\n{name}: generating {rows:,} requests …")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    deps = ServiceDeps(make_sessionmaker(engine), FakeClock(NOW), Translator(make_i18n()))
    await EstateApplier(deps).apply(parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent))
    start = time.perf_counter()
    await generate(engine, rows)
    print(f"  {'generated (INSERT ... SELECT, ANALYZE)':<42} {time.perf_counter() - start:8.3f} s")
    async with engine.connect() as connection:
        total = await connection.scalar(text("SELECT count(*) FROM tickets"))
    print(f"  tickets in the table: {total:,}")
    estate_id = (await ids_of(engine))["estate"]

    async def figures() -> Any:
        async with deps.sessions() as session:
            return await compute(session, estate_id, QUARTER, NOW)

    result = await timed("/stats quarter: all figures (compute)", figures)
    times = "; ".join(
        f"{name} {timing.median:.1f} / {timing.p90:.1f} s ({timing.count:,})"
        for name, timing in result.timings.items()
        if timing.median is not None and timing.p90 is not None
    )
    print(
        f"  → {result.total:,} requests in the quarter; median / p90: {times}; "
        f"claimed in time {result.within['claim'].hits:,}/{result.within['claim'].total:,}"
    )
    await timed(
        "/stats quarter: the whole answer (text)",
        lambda: StatsService(deps).stats(estate_id, "2026-10-01..2026-12-31", "en"),
    )
    await timed(
        "/stats quarter plumbing (text)",
        lambda: StatsService(deps).stats(estate_id, "2026-10-01..2026-12-31 plumbing", "en"),
    )

    async def report_aggregates() -> None:
        async with deps.sessions() as session:
            dialect = dialect_of(session)
            where = cohort(estate_id, QUARTER, None)
            await per_day(session, where, QUARTER, dialect)
            await sla_by_department(session, where, NOW)
            await satisfaction_trend(session, estate_id, QUARTER, dialect, True)

    await timed("/report quarter: aggregates (no drawing)", report_aggregates)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as folder:
            engine = make_engine(f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}")
            try:
                await bench(engine, args.rows)
            finally:
                await engine.dispose()
    if args.only != "sqlite":
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = make_engine(PG_URL)
        async with admin.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = make_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
        try:
            await bench(engine, args.rows)
        finally:
            await engine.dispose()
            async with admin.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
