"""Announcements to hundreds of residents at Telegram's bulk rate, with a delivery report."""

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator.server import FakeTelegram
from storage.models import Building, Flat, Resident
from tests.e2e.harness import Stack, make_stack

RESIDENTS = 300
BLOCKED = {3005, 3100, 3200, 3299}


async def add_residents(stack: Stack, count: int) -> list[int]:
    """Verified residents straight into the database (registration is tested elsewhere)."""
    from sqlalchemy import select

    ids = []
    async with stack.app.sessions.begin() as session:
        flats = (await session.scalars(select(Flat).join(Building).order_by(Flat.id))).all()
        for index in range(count):
            telegram_id = 3000 + index
            session.add(
                Resident(
                    estate_id=flats[0].building.estate_id, telegram_id=telegram_id, name=f"R{index}",
                    phone=f"+4470000{index:05d}", flat_id=flats[index % len(flats)].id, status="verified",
                    language="en", created_at=stack.clock.now(),
                )
            )
            stack.tg.add_user(telegram_id, f"R{index}")
            ids.append(telegram_id)
    return ids


async def pending(stack: Stack) -> int:
    from sqlalchemy import func, select

    from storage.models import Outbox

    async with stack.app.sessions() as session:
        return int(await session.scalar(select(func.count()).where(Outbox.status != "sent", Outbox.status != "failed")) or 0)


async def settle(stack: Stack) -> None:
    """A 429 makes a row wait on the (test's) clock: move it on while anything still waits."""
    for _ in range(20):
        if await pending(stack) == 0:
            return
        stack.clock.advance(seconds=2)
        await asyncio.sleep(1.0)
        await stack.app.sender.drain()


async def announce(stack: Stack, text: str) -> None:
    mia = await stack.staff("mia")
    await stack.feed(mia.command("announce"))
    await stack.feed(mia.press(stack.keyboard(mia.id), "All residents"))
    await stack.feed(mia.text(text))
    await stack.feed(mia.press(stack.keyboard(mia.id), "Urgent"))
    await stack.feed(mia.press(stack.keyboard(mia.id), "Now"))
    assert f"recipients: {RESIDENTS}" in stack.keyboard(mia.id).content
    stack.tg.rate_limits(enabled=True)  # from here on, Telegram's limits (a person taps slower)
    await asyncio.sleep(1.1)
    await stack.feed(mia.press(stack.keyboard(mia.id), "Send"))


async def test_announcement_to_300_residents_arrives_once_each_within_the_rate_limit(
    tg: FakeTelegram, engine: AsyncEngine
) -> None:
    stack = await make_stack(tg, engine, send_global_per_second=28.0, send_private_interval=1.0)
    try:
        residents = await add_residents(stack, RESIDENTS)
        for telegram_id in BLOCKED:
            tg.block(telegram_id)
        started = time.monotonic()
        await announce(stack, "Water off Tuesday 10:00-12:00 <maintenance> & tests")
        await settle(stack)
        elapsed = time.monotonic() - started
        for telegram_id in residents:
            got = [t for t in stack.texts(telegram_id) if "Water off Tuesday" in t]
            assert len(got) == (0 if telegram_id in BLOCKED else 1), telegram_id
        assert tg.rate_limit_violations <= 2  # paced under the limit; a stray 429 is retried
        assert elapsed >= (RESIDENTS - len(BLOCKED)) / 30 * 0.9  # paced, not bursted
        await stack.tick()
        await settle(stack)
        report = stack.last(1009).content
        assert f"delivered: {RESIDENTS - len(BLOCKED)}; blocked the bot: {len(BLOCKED)}; failed: 0" in report
        await stack.tick()
        assert sum("Announcement delivered" in t for t in stack.texts(1009)) == 1
        await stack.feed(tg.person(3001, "R1").command("notices"))
        assert "Water off Tuesday" in stack.last(3001).content
    finally:
        await stack.app.bot.session.close()


async def test_non_managers_cannot_announce(stack: Stack) -> None:
    alice = await stack.register("alice")
    sam = await stack.staff("sam")
    for person in (alice, sam):
        await stack.feed(person.command("announce"))
        assert "Who should receive" not in stack.last(person.id).content
