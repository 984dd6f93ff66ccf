"""Property: whatever residents and staff send, in whatever order, the bot neither crashes nor
sends anything Telegram refuses for its formatting (HTML, length, button data).

Each example builds a fresh bot (SQLite) and fake server, registers two residents and two staff
members, files one request, then feeds a random script of updates: texts of random unicode with
``<``, ``&`` and emoji up to Telegram's 4,096 UTF-16 units, commands, stickers, photos, contacts,
locations, voice notes, documents, replies, taps on the last keyboard and taps with random data.
"""

import asyncio
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.emulator.actors import Person
from bot.emulator.server import FakeTelegram
from bot.emulator.state import StoredMessage
from bot.ui.format import TEXT_LIMIT, utf16_len
from tests.conftest import drop_isolated, fresh_engine
from tests.e2e.harness import PLUMBING, Stack, make_stack

FORMATTING_ERRORS = (
    "can't parse entities",
    "message is too long",
    "message caption is too long",
    "button_data_invalid",
    "message_too_long",
    "text must be non-empty",
)
RESIDENTS = ("alice", "bo")
STAFF = ("sam", "dan")  # a plumber and a dispatcher
COMMANDS = (
    "start",
    "new",
    "my",
    "help",
    "cancel",
    "language",
    "notices",
    "forget_me",
    "bind",
    "stats",
    "ticket",
    "overdue",
    "callbacks",
    "announce",
    "whatever",
)
HOSTILE_BITS = (
    "<",
    ">",
    "&",
    "&amp;",
    "&#x1F4A7;",
    "<b>",
    "</i>",
    "<a href='javascript:x'>",
    "<script>",
    "💧",
    "🚿🔧",
    "\u202e",
    "\u200b",
    "\n",
    "/start",
    "@frontdoor_test_bot",
    "R-000001",
    "https://example.com/?a=1&b=<2>",
    "*_`[",
)


def fit(text: str) -> str:
    """At most what one Telegram message can hold."""
    while utf16_len(text) > TEXT_LIMIT:
        text = text[: len(text) - max(1, (utf16_len(text) - TEXT_LIMIT) // 2)]
    return text


piece = st.one_of(st.sampled_from(HOSTILE_BITS), st.text(min_size=1, max_size=12))
short_text = st.lists(piece, min_size=1, max_size=8).map("".join)
long_text = st.tuples(piece, st.integers(300, 4200)).map(lambda p: p[0] * (p[1] // len(p[0]) + 1))
message_text = st.one_of(short_text, short_text, long_text).map(fit).filter(lambda t: t.strip())
random_data = st.text(min_size=1, max_size=64).map(
    lambda t: t.encode()[:64].decode(errors="ignore")
)

resident_action = st.one_of(
    st.tuples(st.just("text"), message_text),
    st.tuples(st.just("reply"), message_text),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS), st.none() | short_text),
    st.tuples(st.just("press"), st.integers(0, 30)),
    st.tuples(st.just("press_data"), random_data.filter(bool)),
    st.tuples(st.just("photo"), st.none() | short_text),
    st.tuples(st.just("contact"), st.booleans()),
    st.tuples(st.sampled_from(["sticker", "location", "voice", "document"])),
)
staff_action = st.one_of(
    st.tuples(st.just("text"), message_text),
    st.tuples(st.just("card_reply"), message_text),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS), st.none() | short_text),
    st.tuples(st.just("press"), st.integers(0, 30)),
    st.tuples(st.just("press_card"), st.integers(0, 30)),
    st.tuples(st.just("press_data"), random_data.filter(bool)),
    st.tuples(st.just("photo"), st.none() | short_text),
)
step = st.one_of(
    st.tuples(st.sampled_from(RESIDENTS), resident_action),
    st.tuples(st.sampled_from(STAFF), staff_action),
)


@dataclass
class Findings:
    crashes: list[str]
    refused: list[str]
    errors: list[str]


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()}")


@contextmanager
def logged_errors() -> Iterator[_Errors]:
    """ERROR records of aiogram's dispatcher and of our code (the sender logs refused HTML)."""
    handler = _Errors()
    loggers = [logging.getLogger(name) for name in ("aiogram.event", "bot", "handlers")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def last_keyboard(tg: FakeTelegram, chat_id: int) -> StoredMessage | None:
    for message in reversed(tg.bot_messages(chat_id)):
        if message.inline_keyboard:
            return message
    return None


def update_for(stack: Stack, person: Person, action: tuple[Any, ...]) -> dict[str, Any] | None:
    """The update a person's action produces, or None when it is not possible right now."""
    tg = stack.tg
    kind = action[0]
    if kind == "text":
        return person.text(action[1])
    if kind == "reply":
        mine = tg.bot_messages(person.id)
        return person.text(action[1], reply_to=mine[-1]) if mine else None
    if kind == "card_reply":
        cards = tg.bot_messages(PLUMBING)
        return person.text(action[1], chat_id=PLUMBING, reply_to=cards[-1]) if cards else None
    if kind == "command":
        return person.command(action[1], action[2])
    if kind in ("press", "press_card"):
        message = last_keyboard(tg, PLUMBING if kind == "press_card" else person.id)
        if message is None:
            return None
        buttons = [b for row in message.inline_keyboard for b in row if "callback_data" in b]
        button = buttons[action[1] % len(buttons)]
        return person.press_data(message, str(button["callback_data"]))
    if kind == "press_data":
        mine = tg.bot_messages(person.id)
        return person.press_data(mine[-1], action[1]) if mine else None
    if kind == "photo":
        return person.photo(caption=action[1])
    if kind == "contact":
        return person.share_contact() if action[1] else person.share_contact(user_id=None)
    if kind == "sticker":
        return person.sticker()
    if kind == "location":
        return person.location()
    if kind == "voice":
        return person.voice()
    return person.document()


async def play(script: list[tuple[str, tuple[Any, ...]]]) -> Findings:
    with tempfile.TemporaryDirectory() as folder:
        engine = await fresh_engine(f"sqlite+aiosqlite:///{Path(folder) / 'property.db'}")
        try:
            async with FakeTelegram() as tg:
                stack = await make_stack(tg, engine, flood_messages=0)
                try:
                    return await play_on(stack, script)
                finally:
                    await stack.app.bot.session.close()
        finally:
            await drop_isolated(engine)


async def play_on(stack: Stack, script: list[tuple[str, tuple[Any, ...]]]) -> Findings:
    people = {key: await stack.register(key) for key in RESIDENTS}
    people |= {key: await stack.staff(key) for key in STAFF}
    await stack.file_quick(people["alice"], "The <kitchen> tap & the 🚿 drip")
    crashes: list[str] = []
    with logged_errors() as errors:
        for who, action in script:
            update = update_for(stack, people[who], action)
            if update is None:
                continue
            try:
                await stack.feed(update)
            except Exception as error:
                crashes.append(f"{who} {action!r:.200}: {type(error).__name__}: {error}")
    refused = [
        f"{call.method}: {call.description}"
        for call in stack.tg.calls
        if not call.ok and any(e in (call.description or "").lower() for e in FORMATTING_ERRORS)
    ]
    return Findings(crashes, refused, errors.records)


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(script=st.lists(step, min_size=1, max_size=25))
def test_random_updates_never_crash_and_never_break_telegrams_formatting(
    script: list[tuple[str, tuple[Any, ...]]],
) -> None:
    findings = asyncio.run(play(script))
    assert not findings.crashes, findings.crashes
    assert not findings.errors, findings.errors
    assert not findings.refused, findings.refused
