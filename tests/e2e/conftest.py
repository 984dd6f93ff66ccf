from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator.server import FakeTelegram
from tests.e2e.harness import Stack, make_stack


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def stack(tg: FakeTelegram, engine: AsyncEngine) -> AsyncIterator[Stack]:
    built = await make_stack(tg, engine)
    yield built
    await built.app.bot.session.close()
