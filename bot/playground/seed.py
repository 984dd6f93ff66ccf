"""A few historical requests on the first start, so /stats and /report have something to show.

Nothing is written by hand: the clock is set back, residents register and answer polls by
sending updates through the real dispatcher, and requests are filed, claimed, resolved and
confirmed through the services, exactly as the bot would (ticket state is only written there).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.app import App
from bot.domain.clock import FakeClock
from bot.domain.kinds import TicketKind
from bot.domain.lifecycle import Event
from bot.emulator.actors import Person
from bot.emulator.server import FakeTelegram
from bot.playground.world import Participant, World
from bot.services.tickets import Draft
from schedules import jobs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Past:
    """One historical request: filed ``days`` before the start at ``at`` (estate time)."""

    days: int
    at: time
    resident: str  # phone of the demo resident
    category: str  # category name (English)
    description: str
    technician: str  # staff name
    claim_after: int | None  # minutes after filing; None: never claimed
    done_after: int | None = None  # minutes after filing
    note: str = ""
    stars: int | None = None  # None: the resident has not confirmed


HISTORY = (
    Past(9, time(9, 30), "+447700900001", "Leaking tap", "The kitchen tap drips all night",
         "Sam Carter", 12, 55, "Replaced the washer", 5),
    Past(8, time(10, 0), "+447700900003", "Intercom or door entry fault",
         "The intercom buzzes but the door does not open", "Marek Nowak", 20, 25 * 60,
         "New door relay fitted", 4),
    Past(5, time(11, 0), "+447700900005", "Broken door or lock",
         "The lock of my front door is stiff and the key sticks", "Priya Shah", 45, 26 * 60,
         "Lock cylinder replaced", 2),
    Past(2, time(9, 20), "+447700900006", "Blocked drain or toilet",
         "The bathroom sink drains very slowly", "Aisha Bello", 15, 90, "Cleared the trap"),
    Past(1, time(10, 30), "+447700900007", "No hot water or heating",
         "No hot water since this morning", "Sam Carter", 10),
    Past(0, time(9, 0), "+447700900050", "Light out in a common area",
         "The corridor light outside G01 is out", "Marek Nowak", 5, 40, "Bulb replaced", 5),
    Past(0, time(9, 25), "+447700900008", "Something else broken",
         "The balcony door handle came off", "Priya Shah", None),
)


class Seeder:
    def __init__(self, app: App, tg: FakeTelegram, world: World, clock: FakeClock) -> None:
        self.app, self.tg, self.world, self.clock = app, tg, world, clock

    async def feed(self, update: dict[str, Any]) -> None:
        await self.app.dispatcher.feed_raw_update(self.app.bot, update)
        await self.app.sender.drain()

    async def move_to(self, moment: datetime) -> None:
        """Let time pass up to ``moment`` with the scheduler's work done on the way."""
        step = timedelta(hours=2)
        while self.clock.now() < moment:
            self.clock.set(min(moment, self.clock.now() + step))
            await jobs.tick(self.app.services)
            await self.app.sender.drain()

    def person(self, who: Participant) -> Person:
        return Person(self.tg, self.tg.users[who.id])

    def resident(self, phone: str) -> Participant:
        return next(r for r in self.world.residents if r.phone == phone)

    def staff(self, name: str) -> Participant:
        return next(s for s in self.world.staff if s.name == name)

    async def run(self, start: datetime) -> None:
        zone = self.world.spec.zone
        local = start.astimezone(zone)
        earliest = max(p.days for p in HISTORY)

        def at(days: int, moment: time) -> datetime:
            day = (local - timedelta(days=days)).date()
            return datetime.combine(day, moment, tzinfo=zone)

        self.clock.set(at(earliest, time(8, 30)))
        for member in self.world.staff:  # everybody on the staff has opened the bot
            await self.feed(self.person(member).start())
        registered: set[int] = set()
        events: list[tuple[datetime, int, str, Past]] = []
        for index, past in enumerate(HISTORY):
            filed = at(past.days, past.at)
            events.append((filed, index, "file", past))
            if past.claim_after is not None:
                events.append((filed + timedelta(minutes=past.claim_after), index, "claim", past))
            if past.done_after is not None:
                events.append((filed + timedelta(minutes=past.done_after), index, "done", past))
                if past.stars is not None:
                    confirm = filed + timedelta(minutes=past.done_after + 10)
                    events.append((confirm, index, "confirm", past))
        numbers: dict[int, int] = {}
        for moment, index, step, past in sorted(events, key=lambda e: (e[0], e[1])):
            await self.move_to(moment)
            resident = self.resident(past.resident)
            if step == "file":
                if resident.id not in registered:
                    person = self.person(resident)
                    await self.feed(person.start())
                    await self.feed(person.share_contact())
                    registered.add(resident.id)
                numbers[index] = await self.file(resident, past)
            elif step == "claim":
                await self.act(self.staff(past.technician), numbers[index], Event.CLAIM)
            elif step == "done":
                await self.act(self.staff(past.technician), numbers[index], Event.DONE, past.note)
            elif step == "confirm":
                await self.act(resident, numbers[index], Event.CONFIRM)
                assert past.stars is not None
                await self.rate(resident, past.stars)
        await self.move_to(start)

    async def file(self, resident: Participant, past: Past) -> int:
        tickets = self.app.services.tickets
        options = await tickets.categories_for(resident.id, TicketKind.REPAIR, "en")
        category = next(o for o in options if past.category in o.label)
        filed = await tickets.file(
            resident.id,
            Draft(kind=TicketKind.REPAIR, description=past.description, category_id=category.id),
        )
        if not filed.ok or filed.ticket_id is None:
            raise RuntimeError(f"seeding: could not file {past}: {filed.reason}")
        await self.app.sender.drain()
        return filed.ticket_id

    async def act(
        self, who: Participant, ticket_id: int, event: Event, note: str | None = None
    ) -> None:
        result = await self.app.services.tickets.act(who.id, ticket_id, event, note=note or None)
        if not result.ok:
            raise RuntimeError(f"seeding: {who.name} could not {event.value}: {result}")
        await self.app.sender.drain()

    async def rate(self, resident: Participant, stars: int) -> None:
        """Answer the satisfaction poll the way the resident would: tap the stars on each
        question, then skip the comment."""
        person = self.person(resident)
        for _ in range(6):
            keyboard = self.newest_keyboard(resident.id)
            if keyboard is None:
                return
            texts = [str(b.get("text", "")) for row in keyboard.inline_keyboard for b in row]
            wanted = "⭐" * stars
            if wanted in texts:
                await self.feed(person.press(keyboard, wanted))
            elif any("⭐" in t for t in texts):
                await self.feed(person.press(keyboard, next(t for t in texts if "⭐" in t)))
            else:
                skip = next((t for t in texts if t.lower() == "skip"), None)
                if skip is not None:
                    await self.feed(person.press(keyboard, skip))
                return

    def newest_keyboard(self, chat_id: int) -> Any:
        """The poll: the newest of the last few bot messages that still has buttons."""
        for message in list(reversed(self.tg.bot_messages(chat_id)))[:3]:
            if message.inline_keyboard:
                return message
        return None
