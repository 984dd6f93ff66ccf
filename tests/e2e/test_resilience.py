"""Restarts mid-dialog, limits per resident, lost groups, blocked residents, floods, erasure."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator.server import FakeTelegram
from storage.models import Resident, Ticket
from tests.e2e.harness import MANAGERS, PLUMBING, Stack, make_stack


async def test_a_restart_in_the_middle_of_a_dialog_continues_where_it_stopped(
    tg: FakeTelegram, engine: AsyncEngine
) -> None:
    before = await make_stack(tg, engine)
    alice = await before.register("alice")
    await before.feed(alice.command("new"))
    await before.feed(alice.press(before.keyboard(alice.id), "Repair"))
    await before.feed(alice.press(before.keyboard(alice.id), "Leaking tap"))
    await before.app.bot.session.close()  # the process stops here

    after = await make_stack(tg, engine, now=before.clock.now())
    try:
        await after.feed(alice.press(after.keyboard(alice.id), "My flat"))
        await after.feed(alice.press(after.keyboard(alice.id), "No"))
        await after.feed(alice.text("Dripping since Monday"))
        await after.feed(alice.press(after.keyboard(alice.id), "Skip"))
        await after.feed(alice.press(after.keyboard(alice.id), "Submit"))
        assert "R-000001" in after.last(alice.id).content
        assert "Dripping since Monday" in after.card(PLUMBING, "R-000001").content
    finally:
        await after.app.bot.session.close()


async def test_a_redelivered_update_does_nothing(stack: Stack) -> None:
    alice = await stack.register("alice")
    update = alice.command("help")
    await stack.feed(update)
    await stack.feed(update)
    assert sum("How to use this bot" in t for t in stack.texts(alice.id)) == 1


async def test_open_requests_per_resident_are_limited(tg: FakeTelegram, engine: AsyncEngine) -> None:
    from tests.e2e.harness import ESTATE

    stack = await make_stack(tg, engine, estate_text=ESTATE.read_text().replace("max_open_requests = 60", "max_open_requests = 2"))
    try:
        alice = await stack.register("alice")
        await stack.file_quick(alice, "One")
        await stack.file_quick(alice, "Two")
        await stack.feed(alice.command("new"))
        await stack.feed(alice.press(stack.keyboard(alice.id), "Question"))
        await stack.feed(alice.press(stack.keyboard(alice.id), "General question"))
        await stack.feed(alice.text("Three"))
        await stack.feed(alice.press(stack.keyboard(alice.id), "Skip"))
        await stack.feed(alice.press(stack.keyboard(alice.id), "Submit"))
        assert "too many open requests" in stack.last(alice.id).content
        async with stack.app.sessions() as session:
            assert len((await session.scalars(select(Ticket))).all()) == 2
    finally:
        await stack.app.bot.session.close()


async def test_a_lost_group_holds_its_cards_and_alerts_managers(stack: Stack) -> None:
    ada = stack.person("ada")
    group = stack.tg.group(PLUMBING)
    stack.tg.kick(PLUMBING)
    await stack.feed(group.remove_bot(ada))
    assert any("removed from the group of Plumbing" in t for t in stack.texts(MANAGERS))
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    assert not any(number in t for t in stack.texts(PLUMBING))
    stack.tg.rejoin(PLUMBING)
    await stack.feed(group.add_bot(ada))
    await stack.app.sender.drain()
    assert number in stack.card(PLUMBING, number).content


async def test_a_resident_who_blocked_the_bot_is_shown_on_cards_until_they_write(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    await stack.feed(alice.block_bot())
    assert "blocked the bot: please phone them" in stack.card(PLUMBING, number).content
    await stack.feed(alice.unblock_bot())
    await stack.feed(alice.command("help"))
    assert "blocked the bot" not in stack.card(PLUMBING, number).content


async def test_flooding_is_slowed_with_one_notice_and_staff_are_exempt(
    tg: FakeTelegram, engine: AsyncEngine
) -> None:
    stack = await make_stack(tg, engine, flood_messages=20, flood_window=10.0)
    alice = await stack.register("alice")
    for _ in range(30):
        await stack.feed(alice.command("help"))
    texts = stack.texts(alice.id)
    assert sum("very fast" in t for t in texts) == 1
    assert sum("How to use this bot" in t for t in texts) < 30
    sam = await stack.staff("sam")
    for _ in range(30):
        await stack.feed(sam.text("!note", chat_id=PLUMBING))
    assert not any("very fast" in t for t in stack.texts(sam.id))
    await stack.app.bot.session.close()


async def test_forget_me_erases_personal_data_and_keeps_requests(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    await stack.feed(alice.command("forget_me"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "Erase my data"))
    assert "erased" in stack.last(alice.id).content
    async with stack.app.sessions() as session:
        resident = await session.scalar(select(Resident).where(Resident.status == "forgotten"))
        assert resident is not None
        assert (resident.name, resident.phone, resident.telegram_id) == (None, None, None)
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.resident_id == resident.id
    sam = await stack.staff("sam")
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
    brief = [t for t in stack.texts(sam.id) if "You took" in t][-1]
    assert "Alice" not in brief and "+447700900001" not in brief
