"""Applying the estate file: idempotent, deactivating instead of deleting."""

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.clock import SystemClock
from bot.estate import parse_estate
from bot.i18n import Translator, make_i18n
from bot.services.base import ServiceDeps
from bot.services.estate_apply import EstateApplier
from storage.engine import make_sessionmaker
from storage.models import Flat, RegistryEntry, Staff

ESTATE = Path(__file__).parent / "e2e" / "estate.toml"


def applier(engine: AsyncEngine) -> EstateApplier:
    return EstateApplier(ServiceDeps(make_sessionmaker(engine), SystemClock(), Translator(make_i18n())))


async def test_applying_twice_changes_nothing(engine: AsyncEngine) -> None:
    spec = parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent)
    first = await applier(engine).apply(spec)
    assert any("created" in line for line in first.changes)
    second = await applier(engine).apply(spec)
    assert second.changes == []


async def test_removed_staff_are_deactivated_and_kept(engine: AsyncEngine) -> None:
    text = ESTATE.read_text()
    await applier(engine).apply(parse_estate(text, str(ESTATE), ESTATE.parent))
    without_lee = text.replace(
        '[[staff]]\ntelegram_id = 1002\nname = "Lee Wong"\nrole = "technician"\ndepartments = ["plumbing"]\n', ""
    )
    assert without_lee != text
    report = await applier(engine).apply(parse_estate(without_lee, str(ESTATE), ESTATE.parent))
    assert report.changes == ["staff 1002: deactivated"]
    async with make_sessionmaker(engine)() as session:
        lee = await session.scalar(select(Staff).where(Staff.telegram_id == 1002))
        assert lee is not None and lee.active is False
        assert await session.scalar(select(Flat).where(Flat.label == "210")) is not None
        assert len((await session.scalars(select(RegistryEntry))).all()) == 3
    back = await applier(engine).apply(parse_estate(text, str(ESTATE), ESTATE.parent))
    assert back.changes == ["staff 1002: active changed"]
