"""Hostile input: forged button data and staff commands from people who may not use them.

Whatever arrives, nothing changes (cards, statuses, every message the bot has sent), nobody is
written to, nothing crashes, and every tap gets an answer (Telegram shows a spinner until then).
"""

import logging
import random
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiogram.filters.callback_data import CallbackData
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.lifecycle import Event
from bot.emulator.actors import Person
from bot.emulator.server import FakeTelegram
from bot.emulator.state import StoredMessage
from bot.ui.callbacks import (
    CallbackDone,
    LeadAct,
    PollAnswer,
    ResidentAct,
    StaffAct,
    VerifyAct,
)
from bot.ui.console_callbacks import ConsoleAct
from storage.models import Department, Ticket
from tests.e2e.harness import CUSTOMER_SERVICE, ELECTRICAL, PLUMBING, REGISTRY, Stack, make_stack

FORGED = 200
COMMANDS = 50
MALLORY = 4000  # in the department groups, on no staff list


@pytest.fixture
async def world(tg: FakeTelegram, engine: AsyncEngine) -> AsyncIterator["World"]:
    """Alice with a new, a taken and a resolved request; Bo, a resident with none; staff."""
    stack = await make_stack(tg, engine, flood_messages=0)  # every forged tap must get through
    try:
        yield await World.build(stack)
    finally:
        await stack.app.bot.session.close()


@dataclass
class World:
    stack: Stack
    people: dict[str, Person]
    tickets: dict[str, int]  # number -> id

    @classmethod
    async def build(cls, stack: Stack) -> "World":
        alice, bo = await stack.register("alice"), await stack.register("bo")
        people = {"alice": alice, "bo": bo}
        for key in ("sam", "lee", "eve", "cara"):
            people[key] = await stack.staff(key)
        numbers = [await stack.file_quick(alice, f"Tap {n} drips") for n in range(3)]
        tickets = {number: await stack.ticket_id(number) for number in numbers}
        sam = people["sam"]
        for number in numbers[1:]:
            await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
        done = await stack.app.services.tickets.act(
            sam.id, tickets[numbers[2]], Event.DONE, note="Fixed"
        )
        assert done.ok
        await stack.app.sender.drain()
        assert "Is it fixed?" in stack.last(alice.id).content
        return cls(stack, people, tickets)

    def real_payloads(self) -> list[str]:
        """Every callback_data on every keyboard the bot has shown."""
        found: list[str] = []
        for chat_id in self.stack.tg.chats:
            for message in self.stack.tg.bot_messages(chat_id):
                for row in message.inline_keyboard:
                    found.extend(str(b["callback_data"]) for b in row if "callback_data" in b)
        return sorted(set(found))


@dataclass
class Snapshot:
    """Everything a tap or a command could change."""

    messages: dict[tuple[int, int], tuple[str, Any, int]]
    tickets: list[tuple[int, str, int, int | None]]
    departments: list[tuple[str, int | None, int | None]]

    @classmethod
    async def take(cls, stack: Stack) -> "Snapshot":
        messages = {
            (chat_id, m.message_id): (m.content, m.reply_markup, m.edit_count)
            for chat_id in stack.tg.chats
            for m in stack.tg.bot_messages(chat_id, include_deleted=True)
        }
        async with stack.app.sessions() as session:
            tickets = [
                (t.id, t.status, t.version, t.assignee_id)
                for t in (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
            ]
            departments = [
                (d.code, d.chat_id, d.thread_id)
                for d in (await session.scalars(select(Department).order_by(Department.id))).all()
            ]
        return cls(messages, tickets, departments)


@dataclass
class Fed:
    crashes: list[str] = field(default_factory=list)

    async def feed(self, stack: Stack, update: dict[str, Any]) -> None:
        try:
            await stack.app.dispatcher.feed_raw_update(stack.app.bot, update)
        except Exception as error:  # a crash is a finding, not the end of the test
            query = update.get("callback_query") or {}
            text = (update.get("message") or {}).get("text")
            sent = query.get("data", text)
            self.crashes.append(f"{sent!r} from {_who(update)}: {type(error).__name__}")
        await stack.app.sender.drain()


def _who(update: dict[str, Any]) -> Any:
    event = update.get("callback_query") or update.get("message") or {}
    return event.get("from", {}).get("id")


def random_payloads(rng: random.Random, count: int) -> list[str]:
    alphabet = string.printable + "::::" + "éß中文🚿💧\u200b\u202e"
    found: list[str] = []
    while len(found) < count:
        if rng.random() < 0.5:
            text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        else:
            text = rng.randbytes(rng.randint(1, 64)).decode("latin-1")
        while len(text.encode("utf-8")) > 64:
            text = text[:-1]
        if text:
            found.append(text)
    return found


def truncated(payloads: list[str], rng: random.Random, count: int) -> list[str]:
    cuts = sorted({p[:k] for p in payloads for k in range(1, len(p))})
    return rng.sample(cuts, min(count, len(cuts)))


def pack(data: CallbackData) -> str:
    return data.pack()


def other_tickets(world: World) -> list[str]:
    """Real payload shapes pointing at requests that do not exist, or are someone else's."""
    ids = [0, -7, 999_999, *world.tickets.values()]
    # Written out by hand: the classes themselves refuse ids no database holds (-7).
    found = [f"sa:claim:{i}" for i in (0, -7, 999_999)]
    found += [f"ra:{a}:{i}" for a in ("view", "cancel") for i in ids]
    found += [f"mc:{a}:{i}" for a in ("view", "close") for i in ids]
    found += ["sa:claim:-1", "ra:view:1.5", "sa:done:9" * 7, "ra:confirm:", "sa::1"]
    return found


@dataclass
class Tap:
    who: str
    data: str


def taps(world: World, rng: random.Random) -> list[Tap]:
    """200 taps nobody may make: forged data, and real buttons pressed by the wrong people."""
    real = world.real_payloads()
    assert len(real) >= 8  # cards, the confirmation, the menus
    ids = list(world.tickets.values())
    new, taken = ids[:2]
    staff_events = [e.value for e in Event]
    wrong_people = (
        # a resident with no requests: Alice's buttons and any staff button
        [Tap("bo", pack(ResidentAct(action=a, ticket_id=i))) for a in _RESIDENT for i in ids]
        + [Tap("bo", pack(StaffAct(event=e, ticket_id=taken))) for e in staff_events]
        # the resident herself pressing staff buttons
        + [Tap("alice", pack(StaffAct(event=e, ticket_id=new))) for e in ("claim", "reject")]
        # a technician of another department, on the plumbing cards
        + [Tap("eve", pack(StaffAct(event=e, ticket_id=i))) for e in staff_events[:8] for i in ids]
        # a plumber who did not take it
        + [Tap("lee", pack(StaffAct(event=e, ticket_id=taken))) for e in _CLAIMANT_ONLY]
        # buttons of dispatchers, managers, customer service and polls
        + [Tap(w, pack(LeadAct(action="assign_to", ticket_id=new, staff_id=1))) for w in _ANY]
        + [Tap(w, pack(VerifyAct(decision="approve", verification_id=1))) for w in _ANY]
        + [Tap(w, pack(PollAnswer(poll_id=1, question="overall", score=1))) for w in _ANY]
        + [Tap(w, pack(CallbackDone(callback_id=1))) for w in _ANY]
        + [Tap(w, pack(ConsoleAct(action="close", ticket_id=taken))) for w in _ANY]
    )
    forged = random_payloads(rng, 40) + truncated(real, rng, 30) + other_tickets(world)
    found = wrong_people + [Tap(rng.choice(_ANY), data) for data in forged]
    assert len(found) >= FORGED, len(found)
    return found[:FORGED]


_RESIDENT = ("view", "comment", "cancel", "confirm", "notfixed", "photos")
_CLAIMANT_ONLY = ("claim", "on_my_way", "start_work", "hold", "done", "release", "reject")
_ANY = ("alice", "bo", "sam", "lee", "eve", "cara")


def where_to_press(world: World, who: str) -> StoredMessage:
    """A resident taps in their private chat, staff on the plumbing cards."""
    stack = world.stack
    if who in REGISTRY:
        return stack.last(world.people[who].id)
    return stack.tg.bot_messages(PLUMBING)[-1]


async def test_200_forged_taps_change_nothing_and_each_gets_an_answer(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    stack = world.stack
    before = await Snapshot.take(stack)
    fed = Fed()
    pressed: list[tuple[str, Tap]] = []
    with caplog.at_level(logging.ERROR, logger="aiogram.event"):
        for tap in taps(world, random.Random(20261124)):
            update = world.people[tap.who].press_data(where_to_press(world, tap.who), tap.data)
            pressed.append((update["callback_query"]["id"], tap))
            await fed.feed(stack, update)
    assert not fed.crashes, fed.crashes
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    answered = {a["callback_query_id"] for a in stack.tg.callback_answers}
    unanswered = [tap for query_id, tap in pressed if query_id not in answered]
    assert not unanswered, unanswered[:5]
    after = await Snapshot.take(stack)
    assert after.tickets == before.tickets
    assert after.departments == before.departments
    changed = {k: v for k, v in after.messages.items() if before.messages.get(k) != v}
    assert not changed, list(changed.items())[:3]  # no new message anywhere, no edit
    assert not [c for c in stack.tg.calls if not c.ok], "a call the bot made was refused"


def staff_commands() -> list[tuple[str, str | None, int]]:
    """(command, arguments, group): every staff command, with and without arguments."""
    commands = [
        ("bind", "plumbing"),
        ("bind", "electrical"),
        ("bind", "customer_service"),
        ("bind", "security"),
        ("bind", None),
        ("bind", "<b>plumbing</b> & co"),
        ("stats", None),
        ("stats", "month"),
        ("overdue", None),
        ("ticket", "R-000001"),
        ("ticket", "R-000003"),
        ("report", "week"),
        ("export", "csv"),
        ("export", "xlsx"),
        ("staff", None),
        ("residents", None),
        ("invite", "A 101"),
        ("callbacks", None),
        ("announce", None),
        ("help", None),
        ("cancel", None),
        ("start", None),
        ("forget_me", None),
        ("notices", None),
        ("my", None),
    ]
    groups = (PLUMBING, ELECTRICAL, CUSTOMER_SERVICE, -4343)
    found = [(c, a, groups[n % len(groups)]) for n, (c, a) in enumerate(commands * 2)]
    assert len(found) == COMMANDS
    return found


HUGE = (2**31, 2**53, 2**63, 10**40)  # past INTEGER, past BIGINT, past anything


def huge_ids() -> list[str]:
    """Button data with ids no database column can hold (each fits Telegram's 64 bytes)."""
    found: list[str] = []
    for huge in HUGE:
        found += [
            f"sa:claim:{huge}",
            f"sa:done:{huge}",
            f"ra:view:{huge}",
            f"ra:cancel:{huge}",
            f"va:approve:{huge}",
            f"la:assign_to:{huge}:{huge}",
            f"pa:{huge}:overall:5",
            f"cd:{huge}",
            f"mc:view:{huge}",
            f"mp:{huge}",
        ]
    return [data for data in found if len(data.encode()) <= 64]  # what Telegram can carry


async def test_ids_no_database_can_hold_are_refused_without_a_crash(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    stack = world.stack
    before = await Snapshot.take(stack)
    fed = Fed()
    with caplog.at_level(logging.ERROR, logger="aiogram.event"):
        for who in ("bo", "sam"):
            for data in huge_ids():
                update = world.people[who].press_data(where_to_press(world, who), data)
                await fed.feed(stack, update)
    assert not fed.crashes, fed.crashes
    after = await Snapshot.take(stack)
    assert (after.tickets, after.departments) == (before.tickets, before.departments)


async def test_50_staff_commands_from_a_stranger_in_a_department_group_change_nothing(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    stack = world.stack
    stack.tg.add_group(-4343, "A group bound to nothing")
    mallory = stack.tg.person(MALLORY, "Mallory")
    before = await Snapshot.take(stack)
    private_before = {p.id: len(stack.tg.bot_messages(p.id)) for p in world.people.values()}
    fed = Fed()
    with caplog.at_level(logging.ERROR, logger="aiogram.event"):
        for n, (command, arguments, group) in enumerate(staff_commands()):
            update = mallory.command(command, arguments, chat_id=group, mention_bot=n % 3 == 0)
            await fed.feed(stack, update)
    assert not fed.crashes, fed.crashes
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    after = await Snapshot.take(stack)
    assert after.tickets == before.tickets
    assert after.departments == before.departments  # no group was bound or unbound
    edited = [k for k, v in before.messages.items() if after.messages[k] != v]
    assert not edited  # no card was touched
    private_after = {p.id: len(stack.tg.bot_messages(p.id)) for p in world.people.values()}
    assert private_after == private_before  # nobody was written to
    assert not stack.tg.bot_messages(MALLORY)
    said = [
        m.content for k, m in _new_messages(stack, before) if k[0] < 0
    ]  # whatever the bot said in the groups leaks nothing about residents
    private = ("Alice", "Bo Chen", "447700900001", "7700 900001", "Tap 0 drips", "Flat 101")
    assert not [text for text in said if any(p in text for p in private)], said


def _new_messages(stack: Stack, before: Snapshot) -> list[tuple[tuple[int, int], StoredMessage]]:
    return [
        ((chat_id, m.message_id), m)
        for chat_id in stack.tg.chats
        for m in stack.tg.bot_messages(chat_id)
        if (chat_id, m.message_id) not in before.messages
    ]
