"""The clock against the real bot: deadlines in seconds, escalations once per level, quiet hours,
polls and callbacks, auto-close, and a restart in the middle of it all."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator.server import FakeTelegram
from storage.models import Outbox
from tests.e2e.harness import ESTATE, MANAGERS, PLUMBING, Stack, make_stack

FAST = ESTATE.read_text().replace(
    "[[buildings]]",
    """[standards]
repair_emergency = { claim = "60s", on_site = "120s", resolve = "600s" }
repair_simple = { claim = "40s", resolve = "300s" }

[clock]
resolved_reminder = "100s"
auto_close = "300s"
poll_reminder = "50s"
poll_expiry = "200s"
callback_due = "150s"

[[buildings]]""",
    1,
)


@pytest.fixture
async def fast(tg: FakeTelegram, engine: AsyncEngine):  # type: ignore[no-untyped-def]
    built = await make_stack(tg, engine, estate_text=FAST)
    yield built
    await built.app.bot.session.close()


async def file_gas_leak(stack: Stack, who: str = "alice", number: str = "R-000001") -> str:
    alice = await stack.register(who)
    await stack.feed(alice.command("new"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "Repair"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "Gas smell"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "My flat"))
    await stack.feed(alice.command("cancel"))
    return number


def count(stack: Stack, chat_id: int, needle: str) -> int:
    return sum(needle in text for text in stack.texts(chat_id))


async def test_unclaimed_emergency_escalates_once_per_level(fast: Stack) -> None:
    number = await file_gas_leak(fast)
    await fast.tick(seconds=29)
    assert count(fast, PLUMBING, "still waiting to be taken") == 0
    await fast.tick(seconds=2)
    assert count(fast, PLUMBING, "still waiting to be taken") == 1
    for _ in range(3):
        await fast.tick(seconds=5)
    assert count(fast, PLUMBING, "still waiting to be taken") == 1
    assert count(fast, MANAGERS, "Overdue") == 0

    await fast.tick(seconds=30)  # 61 s: past the claim deadline
    assert count(fast, MANAGERS, f"{number} was not taken") == 1
    await fast.tick(seconds=5)
    await fast.tick(seconds=5)
    assert count(fast, MANAGERS, f"{number} was not taken") == 1

    await fast.tick(seconds=60)  # 131 s: nobody on site either
    assert count(fast, MANAGERS, f"nobody reached {number} on site") == 1

    alert = next(m for m in fast.tg.bot_messages(MANAGERS) if "was not taken" in m.content)
    sam = await fast.staff("sam")
    await fast.feed(sam.press(alert, "Assign to"))
    assert "Only a dispatcher or a manager" in fast.alerts()[-1]
    mia = await fast.staff("mia")
    await fast.feed(mia.press(alert, "Assign to"))
    alert = fast.tg.get_message(MANAGERS, alert.message_id)
    await fast.feed(mia.press(alert, "Sam Carter"))
    assert "Taken by Sam Carter" in fast.card(PLUMBING, number).content
    assert any("You took" in t for t in fast.texts(sam.id))

    await fast.tick(seconds=600)  # resolve deadline passes too; the on-site level never repeats
    assert count(fast, MANAGERS, f"nobody reached {number} on site") == 1
    assert count(fast, MANAGERS, f"{number} was not resolved") == 1
    resolve_alert = next(t for t in fast.texts(MANAGERS) if f"{number} was not resolved" in t)
    assert "Taken by Sam Carter" in resolve_alert  # the alert names who has the job
    assert count(fast, sam.id, "should have been started") == 1


async def test_levels_never_fire_after_the_request_moved_on(fast: Stack) -> None:
    number = await file_gas_leak(fast)
    sam = await fast.staff("sam")
    await fast.feed(sam.press(fast.card(PLUMBING, number), "Accept"))
    await fast.feed(sam.press(fast.card(PLUMBING, number), "Start work"))
    await fast.tick(seconds=500)
    assert count(fast, PLUMBING, "still waiting") == 0
    assert count(fast, MANAGERS, "Overdue") == 0


async def test_a_claim_reminder_is_written_when_sent_and_dropped_if_the_request_was_taken(
    fast: Stack,
) -> None:
    number = await file_gas_leak(fast)
    sam = await fast.staff("sam")
    fast.clock.advance(seconds=31)
    await fast.app.services.clock.sweep()  # the reminder is queued, not yet sent
    await fast.feed(sam.press(fast.card(PLUMBING, number), "Accept"))  # then the outbox drains
    assert count(fast, PLUMBING, "still waiting to be taken") == 0
    async with fast.app.sessions() as session:
        reminder = (
            await session.scalars(select(Outbox).where(Outbox.key.like("remind:%:claim")))
        ).one()
    assert reminder.status == "moot" and reminder.message_id is None

    # Another request nobody takes: its reminder goes out as a reply to its card.
    other = await file_gas_leak(fast, "bo", "R-000002")
    await fast.tick(seconds=31)
    reminders = [m for m in fast.tg.bot_messages(PLUMBING) if "still waiting" in m.content]
    assert [m.content.split(".")[0] for m in reminders] == [f"⏰ {other} is still waiting to be taken"]
    assert reminders[0].reply_to_message_id == fast.card(PLUMBING, other).message_id


async def test_quiet_hours_hold_routine_notices_and_let_emergencies_through(
    tg: FakeTelegram, engine: AsyncEngine
) -> None:
    # 20:50 in London; quiet hours start at 21:00 and end at 08:00.
    stack = await make_stack(tg, engine, now=datetime(2026, 11, 24, 20, 50, tzinfo=UTC))
    try:
        alice = await stack.register("alice")
        number = await stack.file_quick(alice, "Tap drips")
        sam = await stack.staff("sam")
        stack.clock.advance(minutes=15)  # 21:05
        await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
        await stack.feed(sam.text("Coming tomorrow at 9", chat_id=PLUMBING, reply_to=stack.card(PLUMBING, number)))
        assert not any("has taken your request" in t for t in stack.texts(alice.id))
        assert not any("Coming tomorrow" in t for t in stack.texts(alice.id))

        await stack.tick(hours=10, minutes=54)  # 07:59: still quiet
        assert not any("Coming tomorrow" in t for t in stack.texts(alice.id))
        await stack.tick(minutes=1)  # 08:00
        texts = stack.texts(alice.id)
        taken = next(i for i, t in enumerate(texts) if "has taken your request" in t)
        relayed = next(i for i, t in enumerate(texts) if "Coming tomorrow" in t)
        assert taken < relayed  # in order
        assert sum("Coming tomorrow" in t for t in texts) == 1  # once
        await stack.tick(minutes=30)
        assert sum("Coming tomorrow" in t for t in stack.texts(alice.id)) == 1

        stack.clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))
        await stack.feed(alice.command("new"))
        await stack.feed(alice.press(stack.keyboard(alice.id), "Repair"))
        await stack.feed(alice.press(stack.keyboard(alice.id), "Flooding"))
        await stack.feed(alice.press(stack.keyboard(alice.id), "My flat"))
        await stack.feed(alice.command("cancel"))
        emergency = "R-000002"
        await stack.feed(sam.press(stack.card(PLUMBING, emergency), "Accept"))
        assert any(f"{emergency}</b>: Sam Carter has taken" in m.html or (emergency in m.content and "has taken" in m.content)
                   for m in stack.tg.bot_messages(alice.id))
    finally:
        await stack.app.bot.session.close()


async def complete(stack: Stack, number: str) -> None:
    sam = await stack.staff("sam")
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Done"))
    await stack.feed(sam.text("Washer replaced"))
    await stack.feed(sam.press(stack.keyboard(sam.id), "Skip"))


async def test_poll_after_confirmation_and_a_low_rating_alerts_managers(fast: Stack) -> None:
    alice = await fast.register("alice")
    number = await fast.file_quick(alice, "Tap drips")
    await complete(fast, number)
    await fast.feed(alice.press(fast.keyboard(alice.id), "Yes, fixed"))
    poll = fast.keyboard(alice.id)
    assert "How satisfied" in poll.content
    await fast.feed(alice.press(poll, "⭐"))  # one star
    alerts = [t for t in fast.texts(MANAGERS) if "Low rating" in t]
    assert len(alerts) == 1 and f"{number} was rated 1 of 5" in alerts[0]
    await fast.feed(alice.press(fast.keyboard(alice.id), "Skip"))  # attitude
    await fast.feed(alice.press(fast.keyboard(alice.id), "⭐⭐"))  # quality
    await fast.feed(alice.press(fast.keyboard(alice.id), "⭐⭐⭐"))  # timeliness
    assert "Anything you would like to add" in fast.keyboard(alice.id).content
    await fast.feed(alice.text("Still a bit noisy & <loud>"))
    assert "Thank you for your feedback" in fast.last(alice.id).content
    assert any("Still a bit noisy &amp; &lt;loud&gt;" in m.html or "Still a bit noisy & <loud>" in m.content
               for m in fast.tg.bot_messages(MANAGERS))

    dan = await fast.staff("dan")
    await fast.feed(dan.command("callbacks"))
    listing = fast.last(dan.id)
    assert "follow-up" in listing.content and "+447700900001" in listing.content
    assert "after the repair" not in listing.content  # the poll answer fulfilled the 48 h call
    await fast.feed(dan.press(listing, "Called back"))
    assert "No callbacks are due" in fast.last(dan.id).content


async def test_resolved_request_is_reminded_once_then_closed_and_polled(fast: Stack) -> None:
    alice = await fast.register("alice")
    number = await fast.file_quick(alice, "Tap drips")
    await complete(fast, number)
    await fast.tick(seconds=99)
    assert count(fast, alice.id, "Is everything in order?") == 0
    await fast.tick(seconds=2)
    await fast.tick(seconds=50)
    assert count(fast, alice.id, "Is everything in order?") == 1
    await fast.tick(seconds=200)  # 351 s after resolution: closed
    assert count(fast, alice.id, "closed automatically, as it was resolved") == 1
    assert "Status: closed" in fast.card(PLUMBING, number).content
    assert count(fast, alice.id, "How satisfied") == 1
    await fast.tick(seconds=51)
    assert count(fast, alice.id, "please rate how") == 1
    await fast.tick(seconds=51)
    assert count(fast, alice.id, "please rate how") == 1
    poll = next(m for m in reversed(fast.tg.bot_messages(alice.id)) if "How satisfied" in m.content)
    await fast.tick(seconds=100)  # past poll_expiry (200 s)
    await fast.feed(alice.press(poll, "⭐⭐⭐⭐⭐"))
    assert "already settled" in fast.alerts()[-1]


async def test_not_fixed_alerts_managers_with_the_residents_words(fast: Stack) -> None:
    alice = await fast.register("alice")
    number = await fast.file_quick(alice, "Tap drips")
    await complete(fast, number)
    await fast.feed(alice.press(fast.keyboard(alice.id), "Not fixed"))
    await fast.feed(alice.text("Still dripping"))
    alerts = [t for t in fast.texts(MANAGERS) if "Not fixed" in t]
    assert len(alerts) == 1 and number in alerts[0] and "Still dripping" in alerts[0]


async def test_hold_with_a_date_resumes_itself_and_tells_the_group(fast: Stack) -> None:
    alice = await fast.register("alice")
    number = await fast.file_quick(alice, "Tap drips")
    sam = await fast.staff("sam")
    await fast.feed(sam.press(fast.card(PLUMBING, number), "Accept"))
    await fast.feed(sam.press(fast.card(PLUMBING, number), "On hold"))
    await fast.feed(sam.text("Waiting for a part, back 2026-11-26"))
    assert "Status: on hold" in fast.card(PLUMBING, number).content
    await fast.tick(hours=24)
    assert count(fast, PLUMBING, "back from hold") == 0
    await fast.tick(hours=14)  # 2026-11-26 00:00 London
    assert count(fast, PLUMBING, "back from hold") == 1
    assert "Status: taken by a technician" in fast.card(PLUMBING, number).content
    await fast.tick(hours=1)
    assert count(fast, PLUMBING, "back from hold") == 1


async def test_restart_during_a_pending_escalation_neither_loses_nor_repeats_it(
    tg: FakeTelegram, engine: AsyncEngine
) -> None:
    first = await make_stack(tg, engine, estate_text=FAST)
    number = await file_gas_leak(first)
    first.clock.advance(seconds=61)
    await first.app.services.clock.sweep()  # queued in the outbox, then the process dies
    await first.app.bot.session.close()

    second = await make_stack(tg, engine, estate_text=FAST, now=first.clock.now())
    try:
        await second.tick()
        await second.tick(seconds=5)
        assert count(second, MANAGERS, f"{number} was not taken") == 1
        assert count(second, PLUMBING, "still waiting to be taken") == 0  # the deadline had passed
    finally:
        await second.app.bot.session.close()


async def test_daily_digest_at_nine_and_weekly_on_monday(tg: FakeTelegram, engine: AsyncEngine) -> None:
    stack = await make_stack(tg, engine, now=datetime(2026, 11, 29, 15, 0, tzinfo=UTC))  # Sunday
    try:
        alice = await stack.register("alice")
        await stack.file_quick(alice, "Tap drips")
        await stack.tick(hours=17, minutes=59)  # Monday 08:59
        assert not any("Daily digest" in t for t in stack.texts(MANAGERS))
        await stack.tick(minutes=1)
        await stack.tick(minutes=1)
        digests = [t for t in stack.texts(MANAGERS) if "Daily digest" in t]
        assert len(digests) == 1 and "2026-11-29" in digests[0] and "Plumbing: 1 / 0" in digests[0]
        assert sum("Weekly summary" in t for t in stack.texts(MANAGERS)) == 1
        await stack.tick(hours=24)
        assert sum("Daily digest" in t for t in stack.texts(MANAGERS)) == 2
        assert sum("Weekly summary" in t for t in stack.texts(MANAGERS)) == 1
    finally:
        await stack.app.bot.session.close()
