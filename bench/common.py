"""Shared pieces of the benchmarks: databases, seeding, clocks, statistics.

Not a test module (pytest only collects ``tests/``). Nothing here changes the bot's code: the
benchmarks drive the real application from the outside.
"""

from __future__ import annotations

import asyncio
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

BENCH = Path(__file__).resolve().parent
ESTATE = BENCH / "estate.toml"
TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
WEBHOOK_SECRET = "bench-secret-0123456789"
# A Tuesday at 10:00 in London: working hours, outside quiet hours, so nothing is held back and
# a run does not depend on the time of day it is started at.
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

PG_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)
PG_DATABASE = "fd_bench"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")

PLUMBING, ELECTRICAL, CUSTOMER_SERVICE, MANAGERS = -1001, -1002, -1003, -1009
GROUPS = {
    PLUMBING: "Plumbing",
    ELECTRICAL: "Electrical",
    CUSTOMER_SERVICE: "Customer service",
    MANAGERS: "Managers",
}
PLUMBERS = [1100 + i for i in range(1, 9)]
ELECTRICIANS = [1200 + i for i in range(1, 9)]
OTHER_STAFF = [1004, 1005, 1009, 1010]
MANAGER_ID = 1009
RESIDENT_BASE = 5_000_000  # resident i (1-based) has telegram id RESIDENT_BASE + i


class ShiftedClock:
    """Real time, moved so that it starts at ``start`` (the bot's ``Clock`` protocol)."""

    def __init__(self, start: datetime = MORNING) -> None:
        self.offset = start - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


# ---- statistics -------------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class Timer:
    started: float = 0.0

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *_: Any) -> None:
        self.elapsed = time.perf_counter() - self.started

    elapsed: float = 0.0


# ---- databases ----------------------------------------------------------------------------
def pg_reachable(url: str = PG_ADMIN_URL) -> bool:
    import socket

    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), 1):
            return True
    except OSError:
        return False


def pg_url(database: str = PG_DATABASE) -> str:
    parsed = urlparse(PG_ADMIN_URL)
    return parsed._replace(path=f"/{database}").geturl()


async def pg_recreate(database: str = PG_DATABASE) -> str:
    """Drop and create the benchmark database; returns its URL."""
    import asyncpg

    admin = urlparse(PG_ADMIN_URL.replace("+asyncpg", ""))
    connection = await asyncpg.connect(
        host=admin.hostname, port=admin.port or 5432, user=admin.username or "postgres",
        password=admin.password, database=admin.path.lstrip("/") or "postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    return pg_url(database)


async def pg_drop(database: str = PG_DATABASE) -> None:
    import asyncpg

    admin = urlparse(PG_ADMIN_URL.replace("+asyncpg", ""))
    connection = await asyncpg.connect(
        host=admin.hostname, port=admin.port or 5432, user=admin.username or "postgres",
        password=admin.password, database=admin.path.lstrip("/") or "postgres",
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await connection.close()


async def prepare_database(url: str) -> None:
    """The schema of the models and the bench estate (staff, departments, categories, flats)."""
    from bot.domain.clock import SystemClock
    from bot.estate import parse_estate
    from bot.i18n import Translator, make_i18n
    from bot.services.base import ServiceDeps
    from bot.services.estate_apply import EstateApplier
    from storage.engine import make_engine, make_sessionmaker
    from storage.models import Base

    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        deps = ServiceDeps(make_sessionmaker(engine), SystemClock(), Translator(make_i18n()))
        await EstateApplier(deps).apply(parse_estate(ESTATE.read_text(), str(ESTATE), BENCH))
    finally:
        await engine.dispose()


def series(dialect: str, rows: int) -> tuple[str, str]:
    """(WITH prefix, FROM clause) producing i = 1..rows."""
    if dialect == "postgresql":
        return "", f"generate_series(1::bigint, {rows}) AS g(i)"
    return (
        f"WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {rows}) ",
        "seq",
    )


def ts_sql(dialect: str, moment: datetime, plus_seconds: str = "0") -> str:
    """An SQL expression for ``moment + plus_seconds`` in the column format of UTCDateTime."""
    base = int(moment.timestamp())
    if dialect == "postgresql":
        return f"to_timestamp({base} + ({plus_seconds}))"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {base} + ({plus_seconds}), 'unixepoch') || '.000000')"


async def estate_ids(engine: AsyncEngine) -> dict[str, Any]:
    async with engine.connect() as connection:
        found: dict[str, Any] = {"estate": await connection.scalar(text("SELECT id FROM estates"))}
        for table in ("categories", "departments"):
            rows = await connection.execute(text(f"SELECT code, id FROM {table}"))
            found.update({code: id_ for code, id_ in rows})
        flats = (await connection.execute(text("SELECT id, building_id FROM flats ORDER BY id"))).all()
        found["flats"] = [(int(f), int(b)) for f, b in flats]
    return found


async def seed_residents(engine: AsyncEngine, count: int, *, history_for: int = 0,
                         history_each: int = 3) -> None:
    """``count`` verified residents (telegram ids RESIDENT_BASE + 1..count) spread over the
    flats, and for the first ``history_for`` of them ``history_each`` closed repair requests
    each (so "My requests" has something to list). One INSERT ... SELECT per table."""
    dialect = engine.dialect.name
    ids = await estate_ids(engine)
    flat_ids = [f for f, _ in ids["flats"]]
    first, n = min(flat_ids), len(flat_ids)
    assert flat_ids == list(range(first, first + n)), "flat ids are expected to be contiguous"
    with_, source = series(dialect, count)
    false = "false" if dialect == "postgresql" else "0"
    async with engine.begin() as connection:
        await connection.execute(text(
            f"INSERT INTO residents (estate_id, telegram_id, name, phone, flat_id, status, "
            f"language, unreachable, created_at) {with_}"
            f"SELECT {ids['estate']}, {RESIDENT_BASE} + i, 'Resident ' || i, "
            f"'+4479' || (10000000 + i), {first} + (i % {n}), 'verified', 'en', {false}, "
            f"{ts_sql(dialect, MORNING, '-86400 * 30')} FROM {source}"
        ))
        tickets = history_for * history_each
        if tickets:
            await _seed_history(connection, dialect, ids, history_for, history_each)
            await connection.execute(
                text("INSERT INTO ticket_counters (estate_id, kind, last) VALUES (:e, 'repair', :n)"),
                {"e": ids["estate"], "n": tickets},
            )
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


async def _seed_history(connection: Any, dialect: str, ids: dict[str, Any], residents: int,
                        each: int) -> None:
    total = residents * each
    with_, source = series(dialect, total)
    flats = ids["flats"]
    first, n = flats[0][0], len(flats)
    number = (
        "'R-' || lpad(i::text, 6, '0')" if dialect == "postgresql"
        else "'R-' || printf('%06d', i)"
    )
    # request i belongs to resident r = 1 + (i - 1) % residents; created over the last 60 days
    resident_of = f"(SELECT id FROM residents WHERE telegram_id = {RESIDENT_BASE} + 1 + (i - 1) % {residents})"
    created = "-86400 * 60 + (i * 37) % (86400 * 59)"
    select = (
        f"SELECT {ids['estate']}, 'repair', i, {number}, {ids['leak']}, {ids['plumbing']}, "
        f"{resident_of}, {first} + ((1 + (i - 1) % {residents}) % {n}), "
        f"(SELECT building_id FROM flats WHERE id = {first} + ((1 + (i - 1) % {residents}) % {n})), "
        f"'flat', 'The kitchen tap drips (history)', "
        + ("false" if dialect == "postgresql" else "0")
        + f", 'closed', 5, {ts_sql(dialect, MORNING, created)}, "
        f"{ts_sql(dialect, MORNING, created + ' + 600')}, {ts_sql(dialect, MORNING, created + ' + 86400')}, "
        f"{ts_sql(dialect, MORNING, created + ' + 90000')}, {ts_sql(dialect, MORNING, created + ' + 1800')}, "
        f"{ts_sql(dialect, MORNING, created + ' + 7200')}, 1, 0 FROM {source}"
    )
    columns = (
        "estate_id, kind, seq, number, category_id, department_id, resident_id, flat_id, "
        "building_id, place, description, emergency, status, version, created_at, claimed_at, "
        "resolved_at, closed_at, claim_due_at, resolve_due_at, message_count, photo_count"
    )
    await connection.execute(text(f"INSERT INTO tickets ({columns}) {with_}{select}"))


def rss_mb(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def fmt_ms(seconds: float) -> str:
    return "—" if seconds != seconds else f"{seconds * 1000:.1f} ms"


def now_local_label() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M")


def since(start: float) -> timedelta:
    return timedelta(seconds=time.perf_counter() - start)
