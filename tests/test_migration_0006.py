"""Revision 0006: on PostgreSQL the claim-reminder index carries what queueing a reminder reads,
so a batch is planned as an index-only scan of it; down to 0005 it is an ordinary index scan
again. SQLite's index does not change."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.migrate import downgrade_engine, upgrade_engine
from storage.models import Ticket
from tests.conftest import database_url, drop_isolated, isolated_engine
from tests.test_migration_0005 import ESTATE, deps_at, request_row, sweep_at

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
INDEX = "ix_tickets_status_claim_remind_at"
SCAN = f"Index Only Scan using {INDEX}"


async def seed_due_requests(engine: AsyncEngine, count: int) -> None:
    from bot.estate import parse_estate
    from bot.services.estate_apply import EstateApplier

    await EstateApplier(deps_at(engine, NOW)).apply(
        parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent)
    )
    async with engine.begin() as connection:
        estate_id = await connection.scalar(text("SELECT id FROM estates"))
        department_id = await connection.scalar(
            text("SELECT id FROM departments WHERE code = 'plumbing'")
        )
        rows = [
            request_row(
                estate_id,
                department_id,
                seq,
                "leak",
                created_at=NOW - timedelta(minutes=20),
                claim_remind_at=NOW - timedelta(minutes=5, seconds=seq),
                claim_due_at=NOW + timedelta(minutes=10),
            )
            for seq in range(1, count + 1)
        ]
        await connection.execute(insert(Ticket), rows)
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE tickets"))


async def reminder_batch_plan(engine: AsyncEngine) -> str:
    """A sweep's claim-reminder INSERT … SELECT, as PostgreSQL plans it (sequential scans off:
    the table is tiny, and the question is which index scan the statement can have)."""
    caught: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.startswith("INSERT INTO outbox"):
            caught.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    try:
        assert await sweep_at(engine, NOW) == {"claim_reminders": 20}
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", catch)
    statement, params = caught[0]
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        async with raw.transaction():
            await raw.execute("SET LOCAL enable_seqscan = off")
            rows = await raw.fetch("EXPLAIN " + statement, *params)
    return "\n".join(row[0] for row in rows)


async def test_a_claim_reminder_batch_reads_only_the_index_on_postgresql(tmp_path: Path) -> None:
    engine = await isolated_engine(database_url("postgres", tmp_path))
    try:
        await upgrade_engine(engine)
        await seed_due_requests(engine, 20)
        assert SCAN in await reminder_batch_plan(engine)

        await downgrade_engine(engine, "0005")
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM outbox"))
            await connection.execute(text("DELETE FROM clock_marks"))
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE tickets"))
        plan = await reminder_batch_plan(engine)
        assert SCAN not in plan
        assert f"Index Scan using {INDEX}" in plan
    finally:
        await drop_isolated(engine)


async def test_sqlite_keeps_its_claim_reminder_index(tmp_path: Path) -> None:
    engine = await isolated_engine(database_url("sqlite", tmp_path))
    try:
        await upgrade_engine(engine, "0005")
        before = await index_sql(engine)
        await upgrade_engine(engine)
        assert await index_sql(engine) == before
        await downgrade_engine(engine, "0005")
        assert await index_sql(engine) == before
    finally:
        await drop_isolated(engine)


async def index_sql(engine: AsyncEngine) -> str:
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT sql FROM sqlite_master WHERE name = :name").bindparams(name=INDEX)
        )
    assert found is not None
    return str(found)
