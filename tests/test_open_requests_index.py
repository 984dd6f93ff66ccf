"""Overdue counts read the open-requests index alone, on both databases: the query repeats the
index's condition with the same literal statuses, so the planner can see that the partial index
holds every row it wants (a list of parameters would hide it)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.stats import overdue_count
from storage.engine import make_sessionmaker
from storage.models import Department, Estate, Ticket

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


async def seed(engine: AsyncEngine) -> int:
    async with make_sessionmaker(engine).begin() as session:
        estate = Estate(slug="o", name="O", timezone="Europe/London", settings={})
        session.add(estate)
        await session.flush()
        department = Department(estate_id=estate.id, code="d", name="D")
        session.add(department)
        await session.flush()
        for seq, status in enumerate(["new", "claimed", "closed", "resolved", "new"], start=1):
            session.add(
                Ticket(
                    estate_id=estate.id,
                    kind="repair",
                    seq=seq,
                    number=f"R-{seq:06d}",
                    department_id=department.id,
                    status=status,
                    created_at=NOW - timedelta(hours=seq),
                    claim_due_at=NOW - timedelta(minutes=seq * 10 - 25),
                    resolve_due_at=NOW + timedelta(days=1),
                    message_count=0,
                    photo_count=0,
                    place="flat",
                    description="",
                    emergency=False,
                    version=1,
                )
            )
        return estate.id


async def test_the_overdue_count_reads_only_the_open_requests_index(engine: AsyncEngine) -> None:
    estate_id = await seed(engine)
    executed: list[tuple[str, Any]] = []

    def catch(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        executed.append((statement, params))

    event.listen(engine.sync_engine, "before_cursor_execute", catch)
    try:
        async with make_sessionmaker(engine)() as session:
            # the last new one is past its claim deadline; the first is not yet
            assert await session.scalar(overdue_count(estate_id, NOW, None)) == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", catch)
    statement, params = executed[-1]
    async with engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        if engine.dialect.name == "sqlite":  # the statement exactly as run, parameters and all
            cursor = await raw.execute(f"EXPLAIN QUERY PLAN {statement}", params)
            plan = " ".join(str(row[-1]) for row in await cursor.fetchall())
            assert "COVERING INDEX ix_tickets_open" in plan, plan
        else:
            async with raw.transaction():
                await raw.execute("SET LOCAL enable_seqscan = off")
                # a generic plan: what a prepared statement gets after a few runs
                await raw.execute("SET LOCAL plan_cache_mode = force_generic_plan")
                rows = await raw.fetch(f"EXPLAIN {statement}", *params)
            plan = " ".join(str(row[0]) for row in rows)
            assert "ix_tickets_open" in plan, plan
