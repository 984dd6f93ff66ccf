"""An estate's rules as the services read them on every update: parsed from the row, parsed again
only when the row changed (another process may apply a new estate file at any time)."""

from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.estate import parse_estate
from bot.services.context import EstateContext, estate_context
from bot.services.estate_apply import EstateApplier
from storage.models import Estate
from tests.unit.test_clock_batches import deps_for

ESTATE = Path(__file__).resolve().parents[1] / "e2e" / "estate.toml"


async def test_rules_come_from_the_row_as_it_is_now(engine: AsyncEngine) -> None:
    deps = deps_for(engine)
    await EstateApplier(deps).apply(parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent))
    async with deps.sessions() as session:
        estate = await session.scalar(select(Estate))
        assert estate is not None
        first = await estate_context(session, estate.id)
        again = await estate_context(session, estate.id)
        assert first == EstateContext.of(estate)
        assert again is first  # the same row is not parsed twice
        assert await estate_context(session, estate.id + 1000) is None

    async with deps.sessions.begin() as session:
        settings = dict(estate.settings)
        settings["max_open_requests"] = 3
        settings["quiet_hours"] = ["22:00-07:00"]
        await session.execute(
            update(Estate)
            .where(Estate.id == estate.id)
            .values(settings=settings, timezone="Asia/Shanghai")
        )

    async with deps.sessions() as session:
        changed = await estate_context(session, estate.id)
        reloaded = await session.get(Estate, estate.id)
        assert reloaded is not None
        assert changed == EstateContext.of(reloaded)
    assert changed is not None and changed is not first
    assert changed.max_open_requests == 3
    assert changed.tz == "Asia/Shanghai"
    assert changed.quiet != first.quiet
