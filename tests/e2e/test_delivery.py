"""Nothing lost, nothing twice: the outbox sender against the fake Bot API, its limits and faults.

The first test runs the real sender with the real pacing and the real clock; the others use the
harness (a fake clock, no pacing) and drive retries by moving the clock.
"""

import asyncio
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.delivery.pacing import Pacer
from bot.delivery.sender import LEASE, MAX_BACKOFF, OutboxSender
from bot.domain.clock import Clock, SystemClock
from bot.domain.lifecycle import Event
from bot.emulator.server import FakeTelegram
from bot.ui.callbacks import Pick
from storage.engine import make_sessionmaker
from storage.models import Department, Outbox, Resident, Ticket
from storage.outbox_repo import enqueue
from tests.e2e.harness import PLUMBING, Stack

RESIDENTS = 100
NOTICES_PER_CHAT = 5
FIRST_CHAT = 50_000
SENDER_LOG = "bot.delivery.sender"


def notice(index: int, chat_id: int) -> str:
    return f"notice {index} for chat {chat_id}"


def default(name: str) -> Any:
    """A Settings default, whatever the environment running the tests says."""
    return Settings.model_fields[name].default


async def queue_notices(engine: AsyncEngine, clock: Clock, chats: list[int], per_chat: int) -> None:
    """Round robin over the chats, so every chat's notices are spread over the queue."""
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        for index in range(per_chat):
            for chat_id in chats:
                await enqueue(
                    session,
                    key=f"notice:{chat_id}:{index}",
                    chat_id=chat_id,
                    op="send",
                    payload={"text": notice(index, chat_id), "markup": None},
                    now=clock.now(),
                )


def real_sender(tg: FakeTelegram, engine: AsyncEngine, clock: Clock) -> OutboxSender:
    """The real sender with the real pacing of the Settings defaults."""
    pacer = Pacer(
        default("send_private_interval"),
        default("send_group_interval"),
        default("send_global_per_second"),
    )
    return OutboxSender(
        tg.make_bot(), make_sessionmaker(engine), clock, pacer, default("send_max_attempts")
    )


async def rows(engine: AsyncEngine) -> list[Outbox]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id))).all())


def assert_once_each_in_order(tg: FakeTelegram, chats: list[int], per_chat: int) -> None:
    for chat_id in chats:
        got = [m.content for m in tg.bot_messages(chat_id)]
        assert got == [notice(i, chat_id) for i in range(per_chat)], (chat_id, got)


async def burst_when(tg: FakeTelegram, delivered: int, times: int, retry_after: int) -> None:
    """A second burst of 429s once ``delivered`` messages have gone out (the fake has no event
    to wait on, so this looks every 20 ms)."""
    while sum(1 for c in tg.calls if c.ok and c.method == "sendMessage") < delivered:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    tg.burst_429(times=times, retry_after=retry_after)


async def test_500_notices_to_100_residents_arrive_once_each_in_order_under_limits_and_faults(
    tg: FakeTelegram, engine: AsyncEngine
) -> None:
    chats = [FIRST_CHAT + n for n in range(RESIDENTS)]
    for chat_id in chats:
        tg.add_user(chat_id, f"Resident {chat_id}")
    clock = SystemClock()
    await queue_notices(engine, clock, chats, NOTICES_PER_CHAT)
    sender = real_sender(tg, engine, clock)
    tg.rate_limits(enabled=True)
    tg.faults(server_error_rate=0.1, seed=20261124)
    tg.burst_429(times=30, retry_after=1)
    second_burst = asyncio.create_task(burst_when(tg, 250, times=30, retry_after=2))
    started = time.monotonic()
    try:
        async with asyncio.timeout(60):
            handled = await sender.run_until_idle()
    finally:
        second_burst.cancel()
        await sender.bot.session.close()
    elapsed = time.monotonic() - started

    total = RESIDENTS * NOTICES_PER_CHAT
    assert_once_each_in_order(tg, chats, NOTICES_PER_CHAT)
    assert all(row.status == "sent" for row in await rows(engine))
    errors = Counter(c.error_code for c in tg.calls if not c.ok)
    assert errors[500] >= total * 0.05 and errors[429] >= 60, errors  # the faults did happen
    assert tg.rate_limit_violations == 0  # the pacing itself never ran into Telegram's limits
    per_chat_floor = (NOTICES_PER_CHAT - 1) * default("send_private_interval")
    global_floor = math.ceil(total / default("send_global_per_second")) - 1
    floor = max(per_chat_floor, global_floor)
    print(
        f"\n{total} notices, {RESIDENTS} chats: {elapsed:.2f} s; floor {floor:.1f} s "
        f"(per chat {per_chat_floor:.1f} s, global {global_floor:.1f} s); "
        f"{handled} rows handled; errors {dict(errors)}"
    )
    # Never faster than Telegram allows; how close to the floor it gets is a benchmark figure
    # (printed above), not something a test on a loaded machine can promise.
    assert elapsed >= floor - 0.5, elapsed


@dataclass
class Later:
    """The real clock, ``by`` ahead."""

    by: timedelta

    def now(self) -> datetime:
        return SystemClock().now() + self.by


class Crash(BaseException):
    """The process dies: not an error the sender could catch."""


@dataclass
class CrashOnce:
    """Replaces the sender's record step: the ``at``-th record crashes instead of writing."""

    original: Callable[[Outbox, Any], Coroutine[Any, Any, None]]
    at: int
    calls: int = 0
    crashed_row: int | None = None

    async def __call__(self, row: Outbox, outcome: Any) -> None:
        self.calls += 1
        if self.calls == self.at:
            self.crashed_row = row.id
            raise Crash
        await self.original(row, outcome)


async def test_a_crash_between_send_and_mark_repeats_that_one_message_only(
    tg: FakeTelegram, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    chats = [FIRST_CHAT + n for n in range(6)]
    for chat_id in chats:
        tg.add_user(chat_id, f"Resident {chat_id}")
    clock = SystemClock()
    await queue_notices(engine, clock, chats, 4)
    before = OutboxSender(tg.make_bot(), make_sessionmaker(engine), clock, Pacer(0, 0, 0))
    crash = CrashOnce(before._record, at=9)
    monkeypatch.setattr(before, "_record", crash)
    send = before._call

    async def dead_after_the_crash(row: Outbox, method: Any) -> Any:
        if crash.crashed_row is not None:  # the process is gone: nothing else goes out
            raise Crash
        return await send(row, method)

    monkeypatch.setattr(before, "_call", dead_after_the_crash)
    with pytest.raises(Crash):
        await before.run_until_idle()
    await before.bot.session.close()
    assert crash.crashed_row is not None
    sent_before = sum(len(tg.bot_messages(c)) for c in chats)
    assert 9 <= sent_before < len(chats) * 4  # it crashed midway

    restarted = Later(LEASE)  # restarted once the dead sender's claim on its rows ran out
    after = OutboxSender(tg.make_bot(), make_sessionmaker(engine), restarted, Pacer(0, 0, 0))
    await after.run_until_idle()
    await after.bot.session.close()

    crashed = next(r for r in await rows(engine) if r.id == crash.crashed_row)
    repeats = 0
    for chat_id in chats:
        got = [m.content for m in tg.bot_messages(chat_id)]
        deduplicated = [text for i, text in enumerate(got) if i == 0 or got[i - 1] != text]
        assert deduplicated == [notice(i, chat_id) for i in range(4)], got  # all, in order
        repeats += len(got) - len(deduplicated)
    repeated = [m.content for m in tg.bot_messages(crashed.chat_id)]
    assert repeated.count(crashed.payload["text"]) == 2  # the one whose mark was lost ...
    assert repeats == 1  # ... and no other: only one message is ever between sent and marked
    assert all(row.status == "sent" for row in await rows(engine))


async def queue_to(stack: Stack, chat_id: int, key: str, text: str) -> None:
    async with stack.app.sessions.begin() as session:
        await enqueue(
            session,
            key=key,
            chat_id=chat_id,
            op="send",
            payload={"text": text, "markup": None},
            now=stack.clock.now(),
        )


async def row_by_key(stack: Stack, key: str) -> Outbox:
    async with stack.app.sessions() as session:
        row = await session.scalar(select(Outbox).where(Outbox.key == key))
    assert row is not None
    return row


async def test_a_message_is_given_up_after_the_bounded_attempts_marked_failed_and_logged(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await stack.register("alice")
    attempts = stack.app.settings.send_max_attempts
    stack.tg.fail_next("sendMessage", 500, "Internal Server Error", times=attempts)
    await queue_to(stack, alice.id, "doomed", "You will never read this")
    with caplog.at_level(logging.ERROR, logger=SENDER_LOG):
        for attempt in range(1, attempts + 1):
            await stack.app.sender.drain()
            row = await row_by_key(stack, "doomed")
            assert row.attempts == attempt
            if attempt < attempts:
                assert row.status == "pending"
                await stack.app.sender.drain()  # the retry waits for its backoff ...
                assert (await row_by_key(stack, "doomed")).attempts == attempt
                stack.clock.advance(seconds=MAX_BACKOFF)  # ... and goes once it is due
    assert row.status == "failed" and "Internal Server Error" in (row.last_error or "")
    assert not any("never read this" in t for t in stack.texts(alice.id))
    given_up = [r for r in caplog.records if r.name == SENDER_LOG and "given up" in r.message]
    assert len(given_up) == 1 and f"after {attempts} attempts" in given_up[0].getMessage()
    await queue_to(stack, alice.id, "next", "The next one still arrives")
    await stack.app.sender.drain()
    assert stack.last(alice.id).content == "The next one still arrives"


async def test_a_resident_who_blocked_the_bot_is_marked_unreachable(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    stack.tg.block(alice.id)  # no update about it reaches the bot
    sam = await stack.staff("sam")
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
    async with stack.app.sessions() as session:
        resident = await session.scalar(select(Resident).where(Resident.telegram_id == alice.id))
        assert resident is not None and resident.unreachable
    notice_row = next(r for r in await rows_of(stack) if r.key.startswith("notice:"))
    assert notice_row.status == "failed" and "blocked" in (notice_row.last_error or "")


async def rows_of(stack: Stack) -> list[Outbox]:
    async with stack.app.sessions() as session:
        return list((await session.scalars(select(Outbox).order_by(Outbox.id.desc()))).all())


async def test_message_is_not_modified_counts_as_success(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    sam = await stack.staff("sam")
    stack.tg.fail_next(
        "editMessageText",
        400,
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message",
    )
    with caplog.at_level(logging.WARNING, logger=SENDER_LOG):
        await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
    edits = stack.tg.calls_to("editMessageText")
    assert len(edits) == 1 and edits[0].error_code == 400  # the edit was refused as a no-op
    card_rows = [r for r in await rows_of(stack) if r.op == "card"]
    assert card_rows[0].status == "sent" and card_rows[0].attempts == 1
    assert not [r for r in caplog.records if r.name == SENDER_LOG]
    ticket_id = await stack.ticket_id(number)
    assert (await stack.app.services.tickets.act(sam.id, ticket_id, Event.ON_MY_WAY)).ok
    await stack.app.sender.drain()  # later edits of the same card go through as usual
    assert "technician on the way" in stack.card(PLUMBING, number).content


async def test_an_edit_of_a_deleted_card_posts_it_again(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    old = stack.card(PLUMBING, number)
    stack.tg.get_message(PLUMBING, old.message_id).deleted = True  # someone deleted the card
    sam = await stack.staff("sam")
    result = await stack.app.services.tickets.act(
        sam.id, await stack.ticket_id(number), Event.CLAIM
    )
    assert result.ok
    await stack.app.sender.drain()
    new = stack.card(PLUMBING, number)
    assert new.message_id != old.message_id and "Taken by Sam Carter" in new.content
    async with stack.app.sessions() as session:
        ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
        assert ticket is not None and ticket.card_message_id == new.message_id
    await stack.feed(sam.press(new, "On my way"))  # the new card works, and is edited in place
    assert "technician on the way" in stack.tg.get_message(PLUMBING, new.message_id).content
    assert len([m for m in stack.tg.bot_messages(PLUMBING) if number in m.content]) == 1


async def test_a_group_upgraded_to_a_supergroup_is_followed(stack: Stack) -> None:
    basic, upgraded = -4242, -1004242
    stack.tg.add_group(basic, "Plumbing (old group)")
    ada = stack.person("ada")
    await stack.feed(ada.command("bind", "plumbing", chat_id=basic))
    assert "now receives requests for Plumbing" in stack.last(basic).content
    stack.tg.upgrade(basic, upgraded)
    alice = await stack.register("alice")
    first = await stack.file_quick(alice, "Tap drips")
    assert first in stack.card(upgraded, first).content
    async with stack.app.sessions() as session:
        plumbing = await session.scalar(select(Department).where(Department.code == "plumbing"))
        assert plumbing is not None and plumbing.chat_id == upgraded
    second = await stack.file_quick(alice, "Shower drips")
    assert second in stack.card(upgraded, second).content
    to_old = [c for c in stack.tg.calls if c.params.get("chat_id") in (basic, str(basic))]
    assert sum(c.error_code == 400 for c in to_old) == 1  # one refusal, then it followed


async def test_html_telegram_refuses_is_sent_again_as_plain_text_and_logged(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await stack.register("alice")
    stack.tg.fail_next(
        "sendMessage",
        400,
        "Bad Request: can't parse entities: Unsupported start tag at byte offset 3",
    )
    await queue_to(stack, alice.id, "html", "<b>R-000001</b>: Tom &amp; Jerry &lt;3 <i>ok</i>")
    with caplog.at_level(logging.ERROR, logger=SENDER_LOG):
        await stack.app.sender.drain()
    message = stack.last(alice.id)
    assert message.content == "R-000001: Tom & Jerry <3 ok" and message.entities == []
    assert (await row_by_key(stack, "html")).status == "sent"
    refused = [r for r in caplog.records if r.name == SENDER_LOG and r.levelno == logging.ERROR]
    assert len(refused) == 1 and "can't parse entities" in refused[0].getMessage()


async def test_a_text_telegram_finds_too_long_is_sent_in_plain_parts_and_logged(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    alice = await stack.register("alice")
    lines = [f"line {n:04d} " + "💧" * 40 for n in range(60)]  # 60 x 90 UTF-16 units
    with caplog.at_level(logging.ERROR, logger=SENDER_LOG):
        await queue_to(stack, alice.id, "long", "<b>Long</b>\n" + "\n".join(lines))
        await stack.app.sender.drain()
    parts = [m.content for m in stack.tg.bot_messages(alice.id)][-2:]
    assert "\n".join(parts) == "Long\n" + "\n".join(lines)
    assert (await row_by_key(stack, "long")).status == "sent"
    assert any("too long" in r.getMessage() for r in caplog.records if r.name == SENDER_LOG)


async def test_the_same_update_twice_is_handled_once(stack: Stack) -> None:
    alice = await stack.register("alice")
    update = alice.command("help")
    await stack.feed(update)
    await stack.feed(update)
    await stack.feed_together([update, update])  # redelivered while the first is still running
    assert sum("How to use this bot" in t for t in stack.texts(alice.id)) == 1
    again = alice.command("help")
    await stack.feed_together([again, again])
    assert sum("How to use this bot" in t for t in stack.texts(alice.id)) == 2


async def test_one_residents_updates_are_handled_in_order_even_when_they_arrive_together(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    for choice in ("Repair", "Leaking tap", "My flat", "No"):
        await stack.feed(alice.press(stack.keyboard(alice.id), choice))
    prompt = stack.last(alice.id)
    assert "Describe it" in prompt.content
    description = alice.text("Dripping since Monday")
    skip_photos = alice.press_data(prompt, Pick(field="photos", value="skip").pack())
    second_done = asyncio.Event()
    slowed = slow_first_lookup(stack, monkeypatch, until=second_done)

    async def second() -> None:
        await stack.app.dispatcher.feed_raw_update(stack.app.bot, skip_photos)
        second_done.set()

    await asyncio.gather(stack.app.dispatcher.feed_raw_update(stack.app.bot, description), second())
    await stack.app.sender.drain()
    assert slowed.timed_out  # the tap waited for the text instead of overtaking it
    assert "Please check your request" in stack.last(alice.id).content
    assert "Dripping since Monday" in stack.last(alice.id).content


async def test_different_residents_are_handled_concurrently(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bo = await stack.register("alice"), await stack.register("bo")
    bo_done = asyncio.Event()
    slowed = slow_first_lookup(stack, monkeypatch, until=bo_done, user_id=alice.id, limit=5.0)

    async def bo_asks() -> None:
        await stack.app.dispatcher.feed_raw_update(stack.app.bot, bo.command("help"))
        bo_done.set()

    await asyncio.gather(
        stack.app.dispatcher.feed_raw_update(stack.app.bot, alice.command("help")), bo_asks()
    )
    assert not slowed.timed_out  # Bo was answered while Alice's update was still in progress
    assert "How to use this bot" in stack.last(alice.id).content
    assert "How to use this bot" in stack.last(bo.id).content


@dataclass
class Slowed:
    timed_out: bool = False


def slow_first_lookup(
    stack: Stack,
    monkeypatch: pytest.MonkeyPatch,
    until: asyncio.Event,
    user_id: int | None = None,
    limit: float = 0.5,
) -> Slowed:
    """The next look-up of who sent an update (every update starts with one) waits until
    ``until`` is set, or ``limit`` seconds: if another update overtakes it, it can finish
    meanwhile."""
    updates = stack.app.services.updates
    original = updates.arrive
    slowed = Slowed()
    armed = [True]

    async def arrive(update_id: int, sender: int | None, chat_id: int | None, private: bool) -> Any:
        if armed[0] and (user_id is None or sender == user_id):
            armed[0] = False
            try:
                await asyncio.wait_for(until.wait(), limit)
            except TimeoutError:
                slowed.timed_out = True
        return await original(update_id, sender, chat_id, private)

    monkeypatch.setattr(updates, "arrive", arrive)
    return slowed


async def test_photos_are_not_sent_again_when_the_text_after_them_has_to_wait(
    stack: Stack,
) -> None:
    alice = await stack.register("alice")
    photos = [stack.tg.add_file(b"not really a png", "photo").file_id for _ in range(2)]
    async with stack.app.sessions.begin() as session:
        await enqueue(
            session,
            key="album",
            chat_id=alice.id,
            op="send",
            payload={"text": "Two photos of the repair", "markup": None, "photos": photos},
            now=stack.clock.now(),
        )
    stack.tg.fail_next("sendMessage", 500, "Internal Server Error")
    await stack.app.sender.drain()
    assert (await row_by_key(stack, "album")).status == "pending"
    stack.clock.advance(seconds=MAX_BACKOFF)
    await stack.app.sender.drain()
    sent = stack.tg.bot_messages(alice.id)
    assert sum(1 for m in sent if m.media_group_id is not None) == 2  # the album once
    assert [m.content for m in sent].count("Two photos of the repair") == 1
    assert (await row_by_key(stack, "album")).status == "sent"


async def test_dropped_connections_are_retried_and_deliver_once(stack: Stack) -> None:
    alice = await stack.register("alice")
    stack.tg.drop_connections(times=2, method="sendMessage")
    await queue_to(stack, alice.id, "dropped", "Through a flaky network")
    for _ in range(3):
        await stack.app.sender.drain()
        stack.clock.advance(seconds=MAX_BACKOFF)
    assert [m.content for m in stack.tg.bot_messages(alice.id)].count(
        "Through a flaky network"
    ) == 1
    row = await row_by_key(stack, "dropped")
    assert row.status == "sent" and row.attempts == 3


async def test_a_card_edited_twice_before_delivery_is_edited_once_to_its_latest_state(
    stack: Stack,
) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    sam = await stack.staff("sam")
    ticket_id = await stack.ticket_id(number)
    for event in (Event.CLAIM, Event.ON_MY_WAY, Event.START_WORK):
        assert (await stack.app.services.tickets.act(sam.id, ticket_id, event)).ok
    edits_before = len(stack.tg.calls_to("editMessageText"))
    await stack.app.sender.drain()
    assert len(stack.tg.calls_to("editMessageText")) == edits_before + 1
    assert "work in progress" in stack.card(PLUMBING, number).content
    notices = [t for t in stack.texts(alice.id) if t.startswith(number)]
    assert len(notices) == 3  # every notice to the resident still goes, in order
    assert "taken" in notices[0] and "on the way" in notices[1] and "started" in notices[2]


async def test_a_drain_while_the_background_loop_runs_delivers_nothing_twice(
    tg: FakeTelegram, engine: AsyncEngine
) -> None:
    chats = [FIRST_CHAT + n for n in range(10)]
    for chat_id in chats:
        tg.add_user(chat_id, f"Resident {chat_id}")
    clock = SystemClock()
    sender = OutboxSender(tg.make_bot(), make_sessionmaker(engine), clock, Pacer(0, 0, 0))
    background = asyncio.create_task(sender.run_forever())
    try:
        await queue_notices(engine, clock, chats, 10)
        sender.kick()
        await asyncio.gather(*(sender.drain() for _ in range(5)))
        async with asyncio.timeout(30):
            await sender.run_until_idle()
    finally:
        sender.stop()
        await background
        await sender.bot.session.close()
    assert_once_each_in_order(tg, chats, 10)
