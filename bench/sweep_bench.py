"""The scheduler's sweep (``ClockService.sweep``) over 1,000,000 requests, 10,000 of them due.

The table holds ``rows`` requests: ``due`` of them new and past their claim-reminder time (but
not yet past the claim deadline, so each one gets a reminder in its department group); 4% other
open requests (claimed, in progress, on hold, resolved awaiting confirmation) whose deadlines
are ahead; the rest closed. Rows are generated with one INSERT ... SELECT (generate_series on
PostgreSQL, a recursive CTE on SQLite), then analysed; on PostgreSQL also vacuumed, as autovacuum
keeps a table that has been in use (``--no-vacuum``: as just written).

Reported: the first sweep with work due (what the scheduler's tick costs with 10,000 due, in a
worker that has swept before), how many sweeps
(ticks) it takes to work off all 10,000 and their total time (estimated from the first sweep,
or measured with --drain), and one sweep with nothing due.

    python -m bench.sweep_bench [--rows 1000000] [--due 10000] [--only sqlite|postgres] [--profile] [--drain]
                                [--layout recent|scattered] [--no-vacuum]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.common import (
    BENCH,
    MORNING,
    estate_ids,
    pg_drop,
    pg_reachable,
    pg_recreate,
    prepare_database,
    seed_residents,
    series,
    ts_sql,
)

NOW = MORNING + timedelta(hours=2)
LAYOUTS = ("recent", "scattered")
MARK_PAST_REMINDED = (
    "INSERT INTO clock_marks (step, done_at, done_id) SELECT 'claim_reminders', claim_remind_at, "
    "id FROM tickets WHERE {where} ORDER BY claim_remind_at DESC, id DESC LIMIT 1"
)  # where in the table the due requests are: see ticket_select
COLUMNS = (
    "estate_id, kind, seq, number, category_id, department_id, resident_id, flat_id, building_id, "
    "place, description, emergency, status, version, created_at, claimed_at, resolved_at, "
    "closed_at, claim_remind_at, claim_due_at, resolve_due_at, "
    "card_chat_id, card_message_id, message_count, photo_count"
)


@dataclass
class SweepResult:
    database: str
    rows: int
    due: int
    layout: str
    generate_seconds: float = 0.0
    first_sweep: float = 0.0
    first_counts: dict[str, int] = field(default_factory=dict)
    sweeps_to_drain: int = 0
    drain_seconds: float = 0.0
    reminders_sent: int = 0
    idle_sweep: float = 0.0
    idle_counts: dict[str, int] = field(default_factory=dict)
    drained_estimated: bool = False
    profile: Path | None = None
    failed: str | None = None


def ticket_select(
    dialect: str, rows: int, due: int, ids: dict[str, Any], residents: int, layout: str
) -> str:
    """Request i: with ``layout="scattered"`` every (rows // due)-th is new and due for its claim
    reminder, spread through the whole table (one due row per few pages: the worst case for
    writing them); with ``layout="recent"`` the newest ``due`` are, as they are in an estate,
    where a claim reminder is due for requests filed in the last half hour."""
    every = max(1, rows // due)
    with_, source = series(dialect, rows)
    false = "false" if dialect == "postgresql" else "0"
    number = "'R-' || i" if dialect == "sqlite" else "'R-' || i::text"
    flats = ids["flats"]
    first_flat, n_flats = flats[0][0], len(flats)
    first_resident = ids["first_resident"]
    created = "-86400 * 365 + (i * 31) % (86400 * 364)"
    is_due = (
        f"i % {every} = 0 AND i / {every} <= {due}" if layout == "scattered" else f"i > {rows - due}"
    )
    other_open = f"i % {every} BETWEEN 1 AND 4"
    status = (
        f"CASE WHEN {is_due} THEN 'new' "
        f"WHEN {other_open} THEN (CASE i % 4 WHEN 0 THEN 'claimed' WHEN 1 THEN 'in_progress' "
        f"WHEN 2 THEN 'on_hold' ELSE 'resolved' END) ELSE 'closed' END"
    )

    def ts(seconds: str) -> str:
        return ts_sql(dialect, NOW, seconds)

    return f"""{with_}
        SELECT {ids["estate"]}, 'repair', i, {number},
               CASE WHEN i % 2 = 0 THEN {ids["leak"]} ELSE {ids["light"]} END,
               CASE WHEN i % 2 = 0 THEN {ids["plumbing"]} ELSE {ids["electrical"]} END,
               {first_resident} + i % {residents}, {first_flat} + i % {n_flats},
               {flats[0][1]}, 'flat', 'generated', {false},
               {status}, 1,
               CASE WHEN {is_due} THEN {ts("-1200 - i % 300")} ELSE {ts(created)} END,
               CASE WHEN {is_due} THEN NULL ELSE {ts(created + " + 600")} END,
               CASE WHEN {is_due} OR ({other_open} AND i % 4 <> 3) THEN NULL
                    WHEN {other_open} THEN {ts("-3600")} ELSE {ts(created + " + 86400")} END,
               CASE WHEN {is_due} OR {other_open} THEN NULL ELSE {ts(created + " + 90000")} END,
               CASE WHEN {is_due} THEN {ts("-300 - i % 300")} ELSE {ts(created + " + 900")} END,
               CASE WHEN {is_due} THEN {ts("600")} WHEN {other_open} THEN {ts("3600")}
                    ELSE {ts(created + " + 1800")} END,
               CASE WHEN {is_due} OR {other_open} THEN {ts("86400")} ELSE {ts(created + " + 7200")} END,
               CASE WHEN i % 2 = 0 THEN -1001 ELSE -1002 END, 100000 + i, 0, 0
        FROM {source}
    """


async def generate(engine: Any, rows: int, due: int, layout: str, vacuum: bool = True) -> None:
    dialect = engine.dialect.name
    await seed_residents(engine, 1000)
    ids = await estate_ids(engine)
    async with engine.connect() as connection:
        ids["first_resident"] = await connection.scalar(text("SELECT min(id) FROM residents"))
    async with engine.begin() as connection:
        await connection.execute(
            text(f"INSERT INTO tickets ({COLUMNS}) {ticket_select(dialect, rows, due, ids, 1000, layout)}")
        )
        await connection.execute(
            text("INSERT INTO ticket_counters (estate_id, kind, last) VALUES (:e, 'repair', :n)"),
            {"e": ids["estate"], "n": rows},
        )
        # As in a running estate, the claim reminders' mark is past every request reminded
        # before (all of them older than the due ones).
        await connection.execute(text(MARK_PAST_REMINDED.format(where="status <> 'new'")))
    if dialect == "postgresql" and vacuum:
        # A table that has run for a year has been vacuumed by autovacuum (its visibility map is
        # set), which bulk-inserted rows have not: index-only scans need it. --no-vacuum
        # measures the table as just written.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
        return
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


async def bench_one(
    url: str,
    rows: int,
    due: int,
    profile: bool,
    drain: bool = False,
    layout: str = "scattered",
    vacuum: bool = True,
) -> SweepResult:
    from bot.domain.clock import FakeClock
    from bot.i18n import Translator, make_i18n
    from bot.services import Services
    from bot.services.base import ServiceDeps
    from storage.engine import make_engine, make_sessionmaker

    database = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    result = SweepResult(database, rows, due, layout)
    await prepare_database(url)
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        await generate(engine, rows, due, layout, vacuum)
        result.generate_seconds = time.perf_counter() - started
        sessions = make_sessionmaker(engine)
        # The scheduler's worker has swept before (every 30 s): one sweep an hour earlier, with
        # nothing due yet, so the one measured is not also the process's first (compiling its
        # statements, preparing them on PostgreSQL's connections: ~25-60 ms).
        earlier = FakeClock(NOW - timedelta(hours=1))
        await Services.build(ServiceDeps(sessions, earlier, Translator(make_i18n()))).clock.sweep()
        services = Services.build(ServiceDeps(sessions, FakeClock(NOW), Translator(make_i18n())))
        profiler = None
        if profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
        started = time.perf_counter()
        report = await services.clock.sweep()
        result.first_sweep = time.perf_counter() - started
        if profiler is not None:
            profiler.stop()
            out = BENCH / "profiles"
            out.mkdir(exist_ok=True)
            result.profile = out / f"sweep-{database.lower()}-{layout}.txt"
            result.profile.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        result.first_counts = dict(report.counts)
        result.reminders_sent = report.counts.get("claim_reminders", 0)
        result.sweeps_to_drain = 1
        result.drain_seconds = result.first_sweep
        if drain:  # the real thing: sweep until nothing is due (long: ~20 sweeps)
            while report.counts and result.sweeps_to_drain < 200:
                started = time.perf_counter()
                report = await services.clock.sweep()
                elapsed = time.perf_counter() - started
                if not report.counts:
                    break
                result.sweeps_to_drain += 1
                result.drain_seconds += elapsed
                result.reminders_sent += report.counts.get("claim_reminders", 0)
        else:  # estimate: the remaining reminders cost what the first batch cost
            batches = -(-due // max(1, result.reminders_sent or 1))
            result.sweeps_to_drain = batches
            result.drain_seconds = result.first_sweep * batches
            result.drained_estimated = True
            async with engine.begin() as connection:  # work the rest off directly
                await connection.execute(text("DELETE FROM clock_marks"))
                await connection.execute(text(MARK_PAST_REMINDED.format(where="1 = 1")))
        started = time.perf_counter()
        report = await services.clock.sweep()
        result.idle_sweep = time.perf_counter() - started
        result.idle_counts = dict(report.counts)
        if profile:  # and what a sweep with nothing due spends its time on
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
            await services.clock.sweep()
            profiler.stop()
            (BENCH / "profiles" / f"sweep-idle-{database.lower()}-{layout}.txt").write_text(
                profiler.output_text(unicode=True, color=False, show_all=False)
            )
    except Exception as error:  # reported in the table
        result.failed = f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return result


async def run_all(rows: int, due: int, only: str | None, profile: bool,
                  drain: bool = False, layouts: tuple[str, ...] = LAYOUTS,
                  vacuum: bool = True) -> list[SweepResult]:
    results = []
    for layout in layouts:
        if only != "postgres":
            with tempfile.TemporaryDirectory(prefix="fdbench-sweep-") as folder:
                url = f"sqlite+aiosqlite:///{Path(folder) / 'sweep.db'}"
                results.append(await bench_one(url, rows, due, profile, drain, layout, vacuum))
        if only != "sqlite":
            if pg_reachable():
                url = await pg_recreate()
                try:
                    results.append(await bench_one(url, rows, due, profile, drain, layout, vacuum))
                finally:
                    await pg_drop()
            else:
                results.append(
                    SweepResult("PostgreSQL", rows, due, layout, failed="PostgreSQL not reachable")
                )
    return results


def describe(result: SweepResult) -> str:
    if result.failed:
        return f"{result.database}: FAILED {result.failed}"
    return (
        f"{result.database} ({result.layout}): {result.rows:,} requests generated in {result.generate_seconds:.1f} s; "
        f"first sweep {result.first_sweep * 1000:.0f} ms {result.first_counts}; "
        f"{'~' if result.drained_estimated else ''}{result.sweeps_to_drain} sweeps "
        f"({'estimated' if result.drained_estimated else 'measured'}) to send all {result.due:,}, "
        f"{result.drain_seconds:.1f} s in all; sweep with nothing due {result.idle_sweep * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--layout", choices=LAYOUTS, help="where the due requests are (default: both)")
    parser.add_argument("--drain", action="store_true", help="sweep until all are sent (slow)")
    parser.add_argument("--no-vacuum", dest="vacuum", action="store_false",
                        help="PostgreSQL: measure the table as just written (no VACUUM)")
    args = parser.parse_args()
    for result in asyncio.run(run_all(args.rows, args.due, args.only, args.profile, args.drain,
                                          (args.layout,) if args.layout else LAYOUTS,
                                          args.vacuum)):
        print(describe(result))


if __name__ == "__main__":
    main()
