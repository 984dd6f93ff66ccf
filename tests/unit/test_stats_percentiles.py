"""Percentiles: PostgreSQL's percentile_cont and SQLite's ORDER BY … LIMIT … OFFSET give the
reference definition bit for bit, for any count and any percentile; durations truncate each
instant to its second the same way on both databases."""

import math
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.services.stats import percentiles, percentiles_of_each, seconds_between
from storage.engine import make_sessionmaker
from storage.models import Department, Estate, Ticket

START = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # the night the clocks go forward in London
PS = (0.0, 0.1, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)
SIZES = (1, 2, 3, 4, 10, 101, 500)


def reference(values: list[int], p: float) -> float:
    """The definition: linear interpolation between the closest ranks (0-based)."""
    ordered = sorted(float(v) for v in values)
    pos = p * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] if lo == hi else ordered[lo] + (pos - lo) * (ordered[hi] - ordered[lo])


async def seed(engine: AsyncEngine) -> None:
    """Groups of requests of each size (the group rides in ``message_count``), claimed after
    random delays with random microseconds on both instants."""
    rng = random.Random(20261025)
    async with make_sessionmaker(engine).begin() as session:
        estate = Estate(slug="p", name="P", timezone="Europe/London", settings={})
        session.add(estate)
        await session.flush()
        department = Department(estate_id=estate.id, code="d", name="D")
        session.add(department)
        await session.flush()
        seq = 0
        for size in SIZES:
            for _ in range(size):
                seq += 1
                created = START + timedelta(seconds=seq * 37, microseconds=rng.randint(0, 999_999))
                delay = timedelta(
                    seconds=rng.choice([0, 1, 59, 60, 3600, rng.randint(0, 400_000)]),
                    microseconds=rng.randint(0, 999_999),
                )
                session.add(
                    Ticket(
                        estate_id=estate.id,
                        kind="repair",
                        seq=seq,
                        number=f"R-{seq:06d}",
                        department_id=department.id,
                        status="closed",
                        created_at=created,
                        claimed_at=created + delay,
                        message_count=size,
                        photo_count=0,
                        place="flat",
                        description="",
                        emergency=False,
                        version=1,
                    )
                )


async def test_both_databases_give_the_reference_percentiles(engine: AsyncEngine) -> None:
    await seed(engine)
    async with make_sessionmaker(engine)() as session:
        dialect = session.get_bind().dialect.name
        value = seconds_between(Ticket.claimed_at, Ticket.created_at, dialect)
        for size in SIZES:
            where = [Ticket.message_count == size, Ticket.claimed_at.is_not(None)]
            n, found = await percentiles(session, value, where, PS)
            rows = (
                await session.execute(
                    select(Ticket.created_at, Ticket.claimed_at).where(Ticket.message_count == size)
                )
            ).all()
            truncated = [
                math.floor(claimed.timestamp()) - math.floor(created.timestamp())
                for created, claimed in rows
                if claimed is not None
            ]
            assert n == size
            assert found == [reference(truncated, p) for p in PS], (dialect, size)


async def test_no_values_no_percentiles(engine: AsyncEngine) -> None:
    await seed(engine)
    async with make_sessionmaker(engine)() as session:
        value = seconds_between(
            Ticket.claimed_at, Ticket.created_at, session.get_bind().dialect.name
        )
        assert await percentiles(session, value, [Ticket.message_count == 7]) == (0, [None, None])


async def test_several_values_in_one_read_give_the_same_percentiles(engine: AsyncEngine) -> None:
    """``percentiles_of_each`` (what /stats uses: one read for the three steps) agrees with
    ``percentiles`` value by value, NULLs (requests without the step) and empty values included."""
    await seed(engine)
    async with make_sessionmaker(engine)() as session:
        dialect = session.get_bind().dialect.name
        claim = seconds_between(Ticket.claimed_at, Ticket.created_at, dialect)
        # A second value that exists only on some rows, and a third that exists on none.
        odd = seconds_between(
            case((Ticket.seq % 3 == 0, Ticket.claimed_at), else_=None), Ticket.created_at, dialect
        )
        never = seconds_between(Ticket.on_site_at, Ticket.created_at, dialect)
        for size in SIZES:
            where = [Ticket.message_count == size]
            expected = []
            counts = []
            for value in (claim, odd, never):
                n, found = await percentiles(session, value, [*where, value.is_not(None)], PS)
                expected.append(found)
                counts.append(n)
            assert await percentiles_of_each(session, [claim, odd, never], where, counts, PS) == (
                expected
            ), (dialect, size)
