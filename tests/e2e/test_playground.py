"""The playground through its HTTP JSON API (the endpoints the page uses): the real bot polls
the built-in emulator; we act as the page does and wait for what the panes would show."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.emulator.media import tiny_png
from bot.playground import Playground

# A Tuesday, 10:00 in London: inside working hours, outside quiet hours.
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
WAIT = 20.0
JSON = dict[str, Any]


class Page:
    """What the page does: JSON calls, and the event stream to know when to look again."""

    def __init__(self, playground: Playground, http: aiohttp.ClientSession) -> None:
        self.pg = playground
        self.http = http
        self.events: asyncio.Queue[JSON] = asyncio.Queue()
        self.seen: list[JSON] = []
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        connected = asyncio.Event()

        async def read() -> None:
            async with self.http.get(self.pg.url + "/api/events") as response:
                connected.set()
                async for raw in response.content:
                    line = raw.decode().strip()
                    if line.startswith("data: "):
                        event = json.loads(line[6:])
                        self.seen.append(event)
                        self.events.put_nowait(event)

        self._reader = asyncio.create_task(read())
        await asyncio.wait_for(connected.wait(), WAIT)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def get(self, path: str) -> Any:
        async with self.http.get(self.pg.url + path) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: JSON, status: int = 200) -> Any:
        async with self.http.post(self.pg.url + path, json=body) as response:
            assert response.status == status, await response.text()
            return await response.json() if status == 200 else await response.text()

    async def chat(self, chat_id: int) -> JSON:
        result: JSON = await self.get(f"/api/chats/{chat_id}")
        return result

    async def until(self, check: Callable[[], Awaitable[Any]], what: str) -> Any:
        """Look, and look again after every event, until ``check`` gives something."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            while not self.events.empty():
                self.events.get_nowait()
            found = await check()
            if found:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {what}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.events.get(), remaining)

    async def bot_says(self, chat_id: int, needle: str, after: int = 0) -> JSON:
        async def check() -> JSON | None:
            for message in reversed((await self.chat(chat_id))["messages"]):
                if message["id"] > after and message["from_bot"] and needle in message["text"]:
                    return dict(message)
            return None

        found: JSON = await self.until(check, f"{needle!r} in chat {chat_id}")
        return found

    async def last_id(self, chat_id: int) -> int:
        messages = (await self.chat(chat_id))["messages"]
        return int(messages[-1]["id"]) if messages else 0

    async def press(self, user_id: int, chat_id: int, message: JSON, label: str) -> None:
        buttons = [b for row in message["keyboard"] for b in row if label in b["text"]]
        assert buttons, f"no {label!r} in {[b['text'] for row in message['keyboard'] for b in row]}"
        await self.post(
            "/api/press",
            {"user_id": user_id, "chat_id": chat_id, "message_id": message["id"], "data": buttons[0]["data"]},
        )

    async def step(self, user_id: int, chat_id: int, label: str, then: str) -> JSON:
        """Press ``label`` on the newest bot message offering it; wait for ``then``."""
        before = await self.last_id(chat_id)
        for message in reversed((await self.chat(chat_id))["messages"]):
            if any(label in b["text"] for row in message["keyboard"] for b in row):
                await self.press(user_id, chat_id, message, label)
                return await self.bot_says(chat_id, then, before)
        texts = [(m["text"][:60], m["keyboard"]) for m in (await self.chat(chat_id))["messages"][-4:]]
        raise AssertionError(f"no button {label!r} in chat {chat_id}: {texts}")

    async def send(self, user_id: int, chat_id: int, text: str, **extra: Any) -> None:
        await self.post("/api/send", {"user_id": user_id, "chat_id": chat_id, "text": text, **extra})


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    playground = Playground(port=0, db=tmp_path / "playground.db", start=START)
    await playground.start()
    async with aiohttp.ClientSession() as http:
        page = Page(playground, http)
        await page.open()
        try:
            yield page
        finally:
            await page.close()
            await playground.stop()


async def test_the_demo_world_and_its_history(page: Page) -> None:
    world = await page.get("/api/world")
    assert world["estate"] == "Maple Court"
    assert len(world["residents"]) == 20
    assert all(len(d["technicians"]) == 2 for d in world["departments"])
    assert {d["code"] for d in world["departments"]} >= {"plumbing", "electrical", "security"}
    assert [p["name"] for p in world["managers"]["people"]] == ["Helen Morris", "Dan Hughes"]
    assert world["clock"]["now"] == START.isoformat()

    alice = next(r for r in world["residents"] if r["name"] == "Alice Brown")
    history = [m["text"] for m in (await page.chat(alice["id"]))["messages"]]
    assert any("R-000001: resolved by Sam Carter" in text for text in history)
    managers = (await page.chat(world["managers"]["chat_id"]))["messages"]
    assert any("Overdue" in m["text"] and "R-000007" in m["text"] for m in managers)
    assert any(m["text"].startswith("📊") for m in managers)  # digests of the seeded days

    strings = await page.get("/strings?lang=ru")
    assert strings["lang"] == "ru" and strings["strings"]["resident"] == "Житель"
    assert (await page.get("/strings?lang=zh-hant"))["strings"]["send"] == "傳送"


async def test_a_repair_from_start_to_stars_through_the_page_api(page: Page) -> None:
    world = await page.get("/api/world")
    ben = next(r for r in world["residents"] if r["name"] == "Ben Brown")  # not registered yet
    plumbing = next(d for d in world["departments"] if d["code"] == "plumbing")
    group, sam = plumbing["chat_id"], plumbing["technicians"][0]
    managers = world["managers"]["chat_id"]
    helen = world["managers"]["people"][0]
    me = ben["id"]

    # register: /start, then the reply keyboard's contact button
    await page.send(me, me, "/start")
    await page.bot_says(me, "share your phone number")
    keyboard = (await page.chat(me))["reply_keyboard"]
    assert keyboard and keyboard[0][0]["contact"]
    await page.post("/api/contact", {"user_id": me, "chat_id": me})
    await page.bot_says(me, "registered to flat 101, Block A")

    # a repair with a photo; the reply keyboard's "New request"
    before = await page.last_id(me)
    await page.post("/api/tap", {"user_id": me, "chat_id": me, "text": "📝 New request"})
    await page.bot_says(me, "", before)
    await page.step(me, me, "Repair", "")
    await page.step(me, me, "Leaking tap", "")
    await page.step(me, me, "My flat", "")
    await page.step(me, me, "No", "")
    before = await page.last_id(me)
    await page.send(me, me, "The bathroom tap <drips> & hisses")
    await page.bot_says(me, "photos", before)
    before = await page.last_id(me)
    form = aiohttp.FormData()
    form.add_field("user_id", str(me))
    form.add_field("chat_id", str(me))
    form.add_field("file", tiny_png(), filename="tap.png", content_type="image/png")
    async with page.http.post(page.pg.url + "/api/photo", data=form) as response:
        assert response.status == 200, await response.text()
    await page.bot_says(me, "Photo received", before)
    await page.step(me, me, "Done", "")
    confirmation = await page.step(me, me, "Submit", "is registered")
    number = confirmation["text"].split("request ", 1)[1].split(" ", 1)[0]
    assert number == "R-000008"

    # the card in the group pane, with the resident's photo
    async def card() -> JSON | None:
        for message in (await page.chat(group))["messages"]:
            if number in message["text"][:40] and message["keyboard"]:
                return dict(message)
        return None

    found = await page.until(card, "the card")
    assert "The bathroom tap <drips> & hisses" in found["text"]

    async def photos() -> list[JSON]:
        return [m for m in (await page.chat(group))["messages"] if m.get("photo")]

    shown = await page.until(photos, "the resident's photo in the group")
    async with page.http.get(f"{page.pg.url}/api/files/{shown[-1]['photo']}") as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert await response.read() == tiny_png()

    # the technician accepts in the group: the card is edited in place, the resident is told
    await page.press(sam["id"], group, found, "Accept")
    await page.bot_says(me, "Sam Carter has taken your request")
    edited = next(m for m in (await page.chat(group))["messages"] if m["id"] == found["id"])
    assert edited["edited"] and "Taken by Sam Carter" in edited["text"]
    assert any(e["type"] == "edit" and e["message"]["id"] == found["id"] for e in page.seen)

    # a second press on a button that is gone is refused by the page API
    await page.post(
        "/api/press",
        {"user_id": sam["id"], "chat_id": group, "message_id": found["id"], "data": "forged"},
        status=400,
    )

    # done, with a note in the technician's private chat
    edited = next(m for m in (await page.chat(group))["messages"] if m["id"] == found["id"])
    before = await page.last_id(sam["id"])
    seen = len(page.seen)
    await page.press(sam["id"], group, edited, "Done")
    await page.bot_says(sam["id"], "completion note", before)

    async def answered() -> JSON | None:  # the bot answers the tap once the prompt is armed
        return next((e for e in page.seen[seen:] if e["type"] == "alert" and e["user_id"] == sam["id"]), None)

    assert "privately" in (await page.until(answered, "the answer to the tap"))["text"]
    before = await page.last_id(sam["id"])
    await page.send(sam["id"], sam["id"], "Replaced the washer")
    await page.bot_says(sam["id"], "", before)
    await page.step(sam["id"], sam["id"], "Skip", "")
    await page.bot_says(me, "resolved by Sam Carter")

    # the resident confirms and rates
    await page.step(me, me, "Yes, fixed", "How satisfied")
    poll = await page.bot_says(me, "How satisfied")
    await page.press(me, me, poll, "⭐⭐⭐⭐⭐")
    # the poll moves on to its next question in place (an edit, not a new message), and the
    # closing notice arrives whenever the outbox sends it (before or after the tap)
    await page.bot_says(me, "attitude")
    await page.bot_says(me, "The request is closed")

    # the managers' chat: /stats counts it
    before = await page.last_id(managers)
    await page.send(helen["id"], managers, "/stats")
    stats = await page.bot_says(managers, "Requests registered", before)
    assert "Requests registered: 4" in stats["text"]  # 3 seeded since Monday, and ours
    assert any(e.get("type") == "message" for e in page.seen)


async def test_clock_language_and_alerts(page: Page) -> None:
    world = await page.get("/api/world")
    managers = world["managers"]["chat_id"]
    before = await page.last_id(managers)

    # a day later: the morning digest reaches the managers' chat
    answer = await page.post("/api/clock", {"days": 1})
    assert answer["now"] == "2026-11-25T10:00:00+00:00"

    async def clock_event() -> JSON | None:
        return next((e for e in page.seen if e["type"] == "clock"), None)

    assert (await page.until(clock_event, "the clock event"))["now"] == answer["now"]
    await page.bot_says(managers, "Daily digest", before)
    await page.post("/api/clock", {"hours": -1}, status=400)
    await page.post("/api/clock", {"days": 40}, status=400)

    # a resident who speaks Russian: the bot answers in Russian
    julia = next(r for r in world["residents"] if r["name"] == "Julia Kim")
    await page.post("/api/language", {"user_id": julia["id"], "language": "ru"})
    await page.send(julia["id"], julia["id"], "/start")
    welcome = await page.bot_says(julia["id"], "Maple Court")
    assert "Welcome" not in welcome["text"]
    assert any("а" <= c <= "я" for c in welcome["text"])

    # a new resident registered on the page (an unknown phone)
    new = await page.post("/api/residents", {"name": "Zoe Page", "phone": "+44 7700 900777", "language": "en"})
    assert new["id"] >= 7501 and new["phone"] == "+447700900777"
    await page.send(new["id"], new["id"], "/start")
    await page.bot_says(new["id"], "share your phone number")

    # pressing an outdated button: the callback answer shows up as an event for that person
    alice = next(r for r in world["residents"] if r["name"] == "Alice Brown")
    old = next(
        m for m in (await page.chat(alice["id"]))["messages"] if any("Yes, fixed" in b["text"] for row in m["keyboard"] for b in row)
    )
    await page.press(alice["id"], alice["id"], old, "Yes, fixed")

    async def alert() -> JSON | None:
        return next((e for e in page.seen if e["type"] == "alert" and e["user_id"] == alice["id"]), None)

    found = await page.until(alert, "a callback answer")
    assert found["text"]

    # the page cannot write into someone else's private chat
    await page.post("/api/send", {"user_id": alice["id"], "chat_id": julia["id"], "text": "hi"}, status=400)
