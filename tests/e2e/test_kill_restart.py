"""SIGKILL the bot in the middle of a 300-resident announcement and start it again: everyone gets
it, at most one resident twice (the one message between "sent" and "marked")."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bot.domain.clock import SystemClock
from bot.emulator.server import FakeTelegram
from bot.estate import parse_estate
from bot.i18n import Translator, make_i18n
from bot.services.announcements import AnnouncementService, Draft
from bot.services.base import ServiceDeps
from bot.services.estate_apply import EstateApplier
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade_engine
from storage.models import Building, Flat, Resident
from tests.e2e.harness import ESTATE

ROOT = Path(__file__).resolve().parents[2]
RESIDENTS = 300
TEXT = "Lift maintenance on Friday"


async def _prepare(url: str, tg: FakeTelegram) -> None:
    from sqlalchemy import select

    engine = make_engine(url)
    await upgrade_engine(engine)
    deps = ServiceDeps(make_sessionmaker(engine), SystemClock(), Translator(make_i18n()))
    await EstateApplier(deps).apply(parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent))
    async with deps.sessions.begin() as session:
        flats = (await session.scalars(select(Flat).join(Building).order_by(Flat.id))).all()
        for index in range(RESIDENTS):
            session.add(Resident(
                estate_id=flats[0].building.estate_id, telegram_id=5000 + index, name=f"R{index}",
                flat_id=flats[index % len(flats)].id, status="verified", created_at=SystemClock().now(),
            ))
            tg.add_user(5000 + index, f"R{index}")
    queued = await AnnouncementService(deps).queue(
        1009, 1009, Draft("all", [], [], TEXT, None, urgent=True, send_at=None)
    )
    assert queued.ok and queued.recipients == RESIDENTS
    await engine.dispose()


def _start(tg: FakeTelegram, url: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BOT_TOKEN": tg.token, "BOT_API_URL": tg.base_url,
           "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "WEB_PORT": "0"}
    env.pop("ESTATE_FILE", None)
    log = (cwd / "bot.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def _deliveries(tg: FakeTelegram) -> Counter[int]:
    return Counter(m.chat_id for chat in range(5000, 5000 + RESIDENTS) for m in tg.bot_messages(chat) if TEXT in m.content)


async def _wait(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_sigkill_mid_announcement_then_restart_delivers_to_everyone_at_most_one_twice(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'frontdoor.db'}"
    async with FakeTelegram() as tg:
        tg.rate_limits(enabled=True)
        await _prepare(url, tg)
        bot = _start(tg, url, tmp_path)
        try:
            assert await _wait(lambda: sum(_deliveries(tg).values()) >= 100, 60), "nothing was sent"
            bot.send_signal(signal.SIGKILL)
            bot.wait(10)
            at_kill = sum(_deliveries(tg).values())
            assert at_kill < RESIDENTS
            bot = _start(tg, url, tmp_path)
            assert await _wait(lambda: len(_deliveries(tg)) == RESIDENTS, 90), (tmp_path / "bot.log").read_text()[-3000:]
            await asyncio.sleep(1.0)
        finally:
            bot.terminate()
            bot.wait(10)
        counts = _deliveries(tg)
        assert len(counts) == RESIDENTS
        assert sum(1 for n in counts.values() if n > 1) <= 1
        assert max(counts.values()) <= 2
