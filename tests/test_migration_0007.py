"""Revision 0007 stores each step's duration: requests already in the table get theirs from their
timestamps, by the same whole-second rule as the code that writes them from then on."""

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, column, inspect, select, table, text

from bot.domain.elapsed import whole_seconds
from storage.migrate import downgrade_engine, upgrade_engine
from storage.types import UTCDateTime
from tests.conftest import database_url, drop_isolated, isolated_engine
from tests.test_migration_0005 import NOW, TICKETS_0004, deps_at, request_row

STEPS = ("claimed_at", "on_site_at", "resolved_at")
TIMES = table(
    "tickets",
    column("id", Integer),
    column("description", String),
    *[column(name, UTCDateTime()) for name in STEPS],
)
SECONDS = table(
    "tickets",
    column("description", String),
    column("claim_seconds", Integer),
    column("on_site_seconds", Integer),
    column("resolve_seconds", Integer),
)


async def test_requests_in_the_table_get_their_durations(db_kind: str, tmp_path: Path) -> None:
    from bot.estate import parse_estate
    from bot.services.estate_apply import EstateApplier
    from tests.test_migration_0005 import ESTATE

    engine = await isolated_engine(database_url(db_kind, tmp_path))
    try:
        await upgrade_engine(engine, "0006")
        await EstateApplier(deps_at(engine, NOW)).apply(
            parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent)
        )
        created = NOW + timedelta(microseconds=700_000)
        cases: dict[str, tuple[Any, Any, Any]] = {
            "new": (None, None, None),
            "claimed": (created + timedelta(seconds=299, microseconds=400_000), None, None),
            "done": (
                created + timedelta(minutes=5),
                created + timedelta(minutes=20, microseconds=100_000),
                created + timedelta(days=3, hours=2, microseconds=299_999),
            ),
        }
        async with engine.begin() as connection:
            estate_id = await connection.scalar(text("SELECT id FROM estates"))
            department_id = await connection.scalar(text("SELECT id FROM departments"))
            for seq, (name, times) in enumerate(cases.items(), start=1):
                row = request_row(
                    estate_id, department_id, seq, name, status="closed", created_at=created
                )
                await connection.execute(TICKETS_0004.insert().values(row))
                await connection.execute(
                    TIMES.update()
                    .where(TIMES.c.description == name)
                    .values(dict(zip(STEPS, times, strict=True)))
                )

        await upgrade_engine(engine, "0007")
        async with engine.connect() as connection:
            found = {
                row.description: (row.claim_seconds, row.on_site_seconds, row.resolve_seconds)
                for row in await connection.execute(select(SECONDS))
            }
        expected = {
            name: tuple(None if at is None else whole_seconds(created, at) for at in times)
            for name, times in cases.items()
        }
        assert found == expected
        assert found["claimed"] == (300, None, None)  # 10:00:00.7 → 10:05:00.1
        assert found["done"] == (300, 1200, 3 * 86400 + 7200)

        await downgrade_engine(engine, "0006")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("tickets")}
            )
        assert not columns & {"claim_seconds", "on_site_seconds", "resolve_seconds"}
    finally:
        await drop_isolated(engine)
