"""The real bot (dispatcher, services, sender, aiohttp Bot API session) against the fake server."""

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App, build_app
from bot.config import Settings
from bot.domain.clock import FakeClock
from bot.emulator.actors import Person
from bot.emulator.server import FakeTelegram
from bot.emulator.state import StoredMessage
from bot.estate import parse_estate
from bot.services.estate_apply import EstateApplier
from schedules import jobs

ESTATE = Path(__file__).with_name("estate.toml")
# A Tuesday at 10:00 in London: working hours, outside quiet hours.
MORNING = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

PLUMBING, ELECTRICAL, CUSTOMER_SERVICE, MANAGERS = -1001, -1002, -1003, -1009
REGISTRY = {
    "alice": (2001, "Alice", "+447700900001"),
    "bo": (2002, "Bo", "+447700900002"),
    "ivan": (2003, "Ivan", "+447700900003"),
}
STAFF = {
    "sam": (1001, "Sam"),
    "lee": (1002, "Lee"),
    "eve": (1003, "Eve"),
    "cara": (1004, "Cara"),
    "dan": (1005, "Dan"),
    "mia": (1009, "Mia"),
    "ada": (1010, "Ada"),
}


@dataclass
class Stack:
    tg: FakeTelegram
    app: App
    clock: FakeClock

    async def feed(self, update: dict[str, Any]) -> None:
        """One update through the real dispatcher, then whatever the outbox owes."""
        await self.app.dispatcher.feed_raw_update(self.app.bot, update)
        await self.app.sender.drain()

    async def tick(self, **advance: float) -> None:
        """Move the clock, run the scheduler's jobs once, deliver what they queued."""
        if advance:
            self.clock.advance(timedelta(**advance))
        await jobs.tick(self.app.services)
        await self.app.sender.drain()

    async def feed_together(self, updates: list[dict[str, Any]]) -> None:
        """Updates that arrive at once (an album, two people tapping), handled concurrently."""
        await asyncio.gather(
            *(self.app.dispatcher.feed_raw_update(self.app.bot, update) for update in updates)
        )
        await self.app.sender.drain()

    def person(self, key: str, language: str = "en") -> Person:
        if key in REGISTRY:
            uid, name, phone = REGISTRY[key]
            return self.tg.person(uid, name, language, phone)
        uid, name = STAFF[key]
        return self.tg.person(uid, name, language)

    async def register(self, key: str, language: str = "en") -> Person:
        person = self.person(key, language)
        await self.feed(person.start())
        await self.feed(person.share_contact())
        return person

    async def staff(self, key: str, language: str = "en") -> Person:
        """A staff member who has opened a private chat with the bot."""
        person = self.person(key, language)
        await self.feed(person.start())
        return person

    def last(self, chat_id: int) -> StoredMessage:
        return self.tg.last_bot_message(chat_id)

    def keyboard(self, chat_id: int) -> StoredMessage:
        """The newest bot message in the chat that carries inline buttons."""
        for message in reversed(self.tg.bot_messages(chat_id)):
            if message.reply_markup and "inline_keyboard" in message.reply_markup:
                return message
        raise AssertionError(f"no inline keyboard in chat {chat_id}")

    def texts(self, chat_id: int) -> list[str]:
        return [m.content for m in self.tg.bot_messages(chat_id)]

    def card(self, chat_id: int, number: str) -> StoredMessage:
        """The department card of a request: the bot message whose heading names it."""
        for message in self.tg.bot_messages(chat_id):
            if (number in "\n".join(message.content.split("\n")[:2]) and message.reply_markup is not None) or (
                number in "\n".join(message.content.split("\n")[:2]) and "Status:" in message.content
            ):
                return message
        raise AssertionError(f"no card for {number} in chat {chat_id}")

    async def flat_id(self, building: str, flat: str) -> int:
        from sqlalchemy import select

        from storage.models import Building, Flat

        async with self.app.sessions() as session:
            found = await session.scalar(
                select(Flat.id).join(Building).where(Building.code == building, Flat.label == flat)
            )
        assert found is not None
        return int(found)

    def alerts(self) -> list[str]:
        return [str(a.get("text") or "") for a in self.tg.callback_answers]

    async def file_repair(self, resident: Person, category: str = "Leaking tap", description: str = "The kitchen tap drips") -> str:
        """The whole new-request dialog for a normal repair in the resident's flat."""
        await self.feed(resident.command("new"))
        await self.feed(resident.press(self.last(resident.id), "Repair"))
        await self.feed(resident.press(self.last(resident.id), category))
        await self.feed(resident.press(self.last(resident.id), "My flat"))
        await self.feed(resident.press(self.last(resident.id), "No"))
        await self.feed(resident.text(description))
        await self.feed(resident.press(self.last(resident.id), "Skip"))
        await self.feed(resident.press(self.last(resident.id), "Submit"))
        confirmation = self.last(resident.id).content
        return confirmation.split("request ", 1)[1].split(" ", 1)[0]


    async def file_quick(self, resident: Person, description: str) -> str:
        """A leaking-tap repair filed through the service (for tests about what comes after)."""
        from bot.domain.kinds import TicketKind
        from bot.services.tickets import Draft

        categories = await self.app.services.tickets.categories_for(resident.id, TicketKind.REPAIR, "en")
        leak = next(c for c in categories if c.label == "Leaking tap")
        filed = await self.app.services.tickets.file(
            resident.id, Draft(kind=TicketKind.REPAIR, description=description, category_id=leak.id)
        )
        assert filed.ok and filed.number is not None, filed
        await self.app.sender.drain()
        return filed.number

    async def ticket_id(self, number: str) -> int:
        from sqlalchemy import select

        from storage.models import Ticket

        async with self.app.sessions() as session:
            found = await session.scalar(select(Ticket.id).where(Ticket.number == number))
        assert found is not None
        return int(found)


async def make_stack(tg: FakeTelegram, engine: AsyncEngine, **settings: Any) -> Stack:
    clock = FakeClock(settings.pop("now", MORNING))
    estate_text: str = settings.pop("estate_text", ESTATE.read_text())
    tg.clock = lambda: clock.now().timestamp()
    values: dict[str, Any] = {
        "bot_token": tg.token,
        "bot_api_url": tg.base_url,
        "database_url": engine.url.render_as_string(hide_password=False),
        "send_private_interval": 0.0,
        "send_group_interval": 0.0,
        "send_global_per_second": 0.0,
        "flood_messages": 0,  # tests type faster than any person; the flood test turns it on
    }
    config = Settings(**{**values, **settings})
    app = build_app(config, clock=clock, engine=engine)
    await EstateApplier(app.services.deps).apply(parse_estate(estate_text, str(ESTATE), ESTATE.parent))
    for chat_id, title in ((PLUMBING, "Plumbing"), (ELECTRICAL, "Electrical"), (CUSTOMER_SERVICE, "Customer service"), (MANAGERS, "Managers")):
        tg.group(chat_id, title)
    for uid, name in STAFF.values():
        tg.person(uid, name, started=False)
    return Stack(tg, app, clock)
