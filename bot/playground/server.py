"""The playground: the real bot, polling the built-in Bot API emulator, and a web page where one
person plays the resident, a department group and the managers' chat.

    playground = Playground(port=8080)
    await playground.start()      # emulator, database, demo estate, bot, web page
    print(playground.url)
    await playground.wait()       # until Ctrl-C (the bot's own signal handling)
    await playground.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import func, select

from bot.app import App, build_app, run
from bot.config import Settings
from bot.domain.clock import FakeClock
from bot.emulator.actors import Person
from bot.emulator.media import image_size
from bot.emulator.server import FakeTelegram
from bot.emulator.state import FakeChat, StoredMessage
from bot.i18n import LOCALES, Translator, locale_for, make_i18n
from bot.playground import strings
from bot.playground.seed import Seeder
from bot.playground.world import LANGUAGE_CODES, World, load_world, populate
from bot.services.estate_apply import EstateApplier
from schedules import jobs
from storage.models import Ticket, TicketEvent

log = logging.getLogger(__name__)

TOKEN = "7000000001:playground-not-a-real-token-000000"
STATIC = Path(str(files("bot.playground").joinpath("static")))
MAX_PHOTO = 10 * 1024 * 1024
CLOCK_UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
MAX_ADVANCE = 31 * 86400
TICK_STEP = timedelta(hours=1)
JSON = dict[str, Any]


def default_start(zone: Any, today: datetime | None = None) -> datetime:
    """10:00 estate time on the most recent working day: inside working hours and outside
    quiet hours, so a first message is answered at once."""
    local = (today or datetime.now(UTC)).astimezone(zone)
    day = local.date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=zone).astimezone(UTC)


class Playground:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        db: Path | None = None,
        start: datetime | None = None,
        seed: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.db = db
        self.start_at = start
        self.seed = seed
        self.world: World = load_world()
        self.clock = FakeClock(start or default_start(self.world.spec.zone))
        self.tg = FakeTelegram(
            TOKEN,
            bot_username="frontdoor_playground_bot",
            clock=lambda: self.clock.now().timestamp(),
        )
        self.translator = Translator(make_i18n())
        self.app: App | None = None
        self._tmp: Path | None = None
        self._bot: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._streams: set[asyncio.Queue[JSON | None]] = set()
        self._unsubscribe: Any = None
        self._clock_lock = asyncio.Lock()

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def database_url(self) -> str:
        assert self.db is not None
        return f"sqlite+aiosqlite:///{self.db}"

    async def start(self) -> None:
        from storage.migrate import upgrade

        if self.db is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="frontdoor-playground-"))
            self.db = self._tmp / "playground.db"
        await self.tg.start()
        populate(self.tg, self.world)
        await asyncio.to_thread(upgrade, self.database_url)
        settings = Settings(
            _env_file=None,  # no .env: the playground sets everything it needs
            bot_token=self.tg.token,
            bot_api_url=self.tg.base_url,
            database_url=self.database_url,
            estate_file=None,
            redis_url=None,
            webhook_url=None,
            web_host="127.0.0.1",
            web_port=0,
            send_private_interval=0.0,
            send_group_interval=0.0,
            send_global_per_second=0.0,
        )
        self.app = app = build_app(settings, clock=self.clock)
        await EstateApplier(app.services.deps).apply(self.world.spec)
        if await self._has_history():
            await self._resume_clock()
        elif self.seed:
            start = self.clock.now()
            await Seeder(app, self.tg, self.world, self.clock).run(start)
        self._unsubscribe = self.tg.subscribe(self._on_emulator_event)
        self._bot = asyncio.create_task(run(app, "all"))
        self._runner = web.AppRunner(self.web_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("playground: %s (database %s)", self.url, self.db)

    async def wait(self) -> None:
        """Until the bot stops (Ctrl-C or SIGTERM stop its polling)."""
        if self._bot is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._bot

    async def stop(self) -> None:
        for queue in list(self._streams):
            queue.put_nowait(None)
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._bot is not None and not self._bot.done():
            assert self.app is not None
            try:
                await self.app.dispatcher.stop_polling()
            except RuntimeError:  # polling had not started yet
                self._bot.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(self._bot), 10)
            except (TimeoutError, asyncio.CancelledError):
                self._bot.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._bot
        elif self._bot is None and self.app is not None:
            await self.app.close()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.tg.stop()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)

    async def _has_history(self) -> bool:
        assert self.app is not None
        async with self.app.sessions() as session:
            count = await session.scalar(select(func.count(Ticket.id)))
        return bool(count)

    async def _resume_clock(self) -> None:
        """A database from an earlier run: never go back in time behind what it recorded."""
        assert self.app is not None
        async with self.app.sessions() as session:
            latest = await session.scalar(select(func.max(TicketEvent.at)))
        if latest is not None:
            latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)
            if latest >= self.clock.now():
                self.clock.set(latest + timedelta(minutes=1))

    # ------------------------------------------------------------------ clock
    async def advance(self, seconds: float) -> datetime:
        """Move the bot's clock, running the scheduler's work hour by hour on the way and
        delivering what it queued, so reminders and digests arrive in order."""
        assert self.app is not None
        async with self._clock_lock:
            target = self.clock.now() + timedelta(seconds=seconds)
            while self.clock.now() < target:
                self.clock.set(min(target, self.clock.now() + TICK_STEP))
                await jobs.tick(self.app.services)
                await self.app.sender.drain()
            self.app.sender.kick()
        self._broadcast({"type": "clock", **self.clock_json()})
        return self.clock.now()

    def clock_json(self) -> JSON:
        now = self.clock.now()
        local = now.astimezone(self.world.spec.zone)
        return {
            "now": now.isoformat(),
            "local": local.isoformat(),
            "timezone": self.world.spec.timezone,
        }

    # ------------------------------------------------------------------ events
    def _on_emulator_event(self, event: JSON) -> None:
        chat_id = event.get("chat_id")
        payload = dict(event)
        if event["type"] in ("message", "edit", "delete") and chat_id is not None:
            chat = self.tg.chats.get(int(chat_id))
            if chat is None:
                return
            message = chat.messages.get(int(event["message_id"]))
            if message is None:
                return
            payload["message"] = self.message_json(message)
            payload["reply_keyboard"] = reply_keyboard_json(chat)
        self._broadcast(payload)

    def _broadcast(self, payload: JSON) -> None:
        for queue in list(self._streams):
            queue.put_nowait(payload)

    # ------------------------------------------------------------------ views
    def message_json(self, msg: StoredMessage) -> JSON:
        sender = msg.from_user or {}
        name = str(sender.get("first_name", ""))
        if sender.get("last_name"):
            name += f" {sender['last_name']}"
        data: JSON = {
            "id": msg.message_id,
            "chat_id": msg.chat_id,
            "from_id": sender.get("id"),
            "from_name": name,
            "from_bot": msg.sent_by_bot,
            "date": msg.date,
            "text": msg.content,
            "entities": msg.entities,
            "edited": msg.edit_count > 0,
            "deleted": msg.deleted,
            "thread_id": msg.message_thread_id,
            "service": msg.service,
            "keyboard": [
                [
                    {
                        "text": str(button.get("text", "")),
                        "data": button.get("callback_data"),
                        "url": button.get("url"),
                    }
                    for button in row
                ]
                for row in msg.inline_keyboard
            ],
        }
        if msg.reply_to_message_id is not None:
            target = self.tg.chats[msg.chat_id].messages.get(msg.reply_to_message_id)
            if target is not None:
                data["reply_to"] = {"id": target.message_id, "text": target.content[:80]}
        if msg.photo:
            data["photo"] = str(msg.photo[-1]["file_id"])
        document = msg.media.get("document")
        if document:
            data["document"] = {
                "file_id": document["file_id"],
                "name": document.get("file_name") or "file",
                "mime": document.get("mime_type") or "application/octet-stream",
                "size": document.get("file_size"),
            }
        contact = msg.media.get("contact")
        if contact:
            data["contact"] = {
                "name": contact.get("first_name", ""),
                "phone": contact.get("phone_number", ""),
            }
        for kind in ("sticker", "voice", "video", "audio", "animation", "location"):
            if kind in msg.media:
                data.setdefault("other", kind)
        return data

    def chat_json(self, chat: FakeChat) -> JSON:
        return {
            "id": chat.id,
            "type": chat.type,
            "title": chat.title or (chat.user.first_name if chat.user else ""),
            "messages": [
                self.message_json(m) for m in chat.messages.values() if not m.deleted
            ],
            "reply_keyboard": reply_keyboard_json(chat),
        }

    # ------------------------------------------------------------------ web
    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_PHOTO + 1024 * 1024)
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC, show_index=False)
        app.router.add_get("/strings", self._strings)
        app.router.add_get("/api/world", self._world)
        app.router.add_get("/api/chats/{chat_id}", self._chat)
        app.router.add_get("/api/events", self._events)
        app.router.add_get("/api/files/{file_id}", self._file)
        app.router.add_get("/api/clock", self._get_clock)
        app.router.add_post("/api/clock", self._post_clock)
        app.router.add_post("/api/send", self._send)
        app.router.add_post("/api/photo", self._photo)
        app.router.add_post("/api/press", self._press)
        app.router.add_post("/api/tap", self._tap)
        app.router.add_post("/api/contact", self._contact)
        app.router.add_post("/api/language", self._language)
        app.router.add_post("/api/residents", self._new_resident)
        return app

    async def _index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def _strings(self, request: web.Request) -> web.Response:
        lang = locale_for(request.query.get("lang"))
        if request.query.get("lang") in LOCALES:
            lang = request.query["lang"]
        _ = self.translator.for_locale(lang)
        return web.json_response({"lang": lang, "strings": strings.page_strings(_)})

    async def _world(self, request: web.Request) -> web.Response:
        return web.json_response(
            {**self.world.to_json(), "clock": self.clock_json(), "bot": self.tg.bot_user.first_name}
        )

    async def _chat(self, request: web.Request) -> web.Response:
        chat = self.tg.chats.get(_int(request.match_info["chat_id"]))
        if chat is None or not self._visible(chat):
            raise web.HTTPNotFound(text="no such chat")
        return web.json_response(self.chat_json(chat))

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        queue: asyncio.Queue[JSON | None] = asyncio.Queue()
        self._streams.add(queue)
        try:
            await _sse(response, {"type": "hello", **self.clock_json()})
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), 15)
                except TimeoutError:
                    await response.write(b": keep-alive\n\n")
                    continue
                if item is None:
                    break
                await _sse(response, item)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._streams.discard(queue)
        return response

    async def _file(self, request: web.Request) -> web.StreamResponse:
        stored = self.tg.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound(text="no such file")
        mime = stored.mime_type or ("image/png" if stored.kind == "photo" else None)
        if stored.kind == "photo" and image_size(stored.content) is None:
            mime = "application/octet-stream"
        if mime == "image/png" and not stored.content.startswith(b"\x89PNG"):
            mime = "image/jpeg" if stored.content.startswith(b"\xff\xd8") else mime
        headers = {"Cache-Control": "private, max-age=3600"}
        if request.query.get("download"):
            name = (stored.file_name or stored.file_path.rsplit("/", 1)[-1]).replace('"', "")
            headers["Content-Disposition"] = f'attachment; filename="{name}"'
        return web.Response(
            body=stored.content,
            content_type=mime or "application/octet-stream",
            headers=headers,
        )

    async def _get_clock(self, request: web.Request) -> web.Response:
        return web.json_response(self.clock_json())

    async def _post_clock(self, request: web.Request) -> web.Response:
        body = await _json(request)
        seconds = 0.0
        for unit, factor in CLOCK_UNITS.items():
            value = body.get(unit)
            if value is not None:
                if not isinstance(value, int | float) or value < 0:
                    raise web.HTTPBadRequest(text=f"{unit} must be a positive number")
                seconds += float(value) * factor
        if not 0 < seconds <= MAX_ADVANCE:
            raise web.HTTPBadRequest(text="advance by 1 minute to 31 days")
        await self.advance(seconds)
        return web.json_response(self.clock_json())

    # ------------------------------------------------------------------ actions
    def _visible(self, chat: FakeChat) -> bool:
        if chat.type == "private":
            return self.world.known(chat.id)
        return chat.id == self.world.managers_chat_id or any(
            d.chat_id == chat.id for d in self.world.departments
        )

    def _actor(self, body: JSON) -> tuple[Person, FakeChat, int | None]:
        """Who acts, in which chat (their private chat with the bot, or a group on the page)."""
        user_id = _int(body.get("user_id"))
        if not self.world.known(user_id) or user_id not in self.tg.users:
            raise web.HTTPBadRequest(text="unknown participant")
        chat_id = _int(body.get("chat_id", user_id))
        chat = self.tg.chats.get(chat_id)
        if chat is None or not self._visible(chat):
            raise web.HTTPBadRequest(text="unknown chat")
        if chat.type == "private" and chat.id != user_id:
            raise web.HTTPBadRequest(text="that is someone else's private chat")
        thread = body.get("thread_id")
        thread_id = _int(thread) if thread is not None and chat.is_forum else None
        return Person(self.tg, self.tg.users[user_id]), chat, thread_id

    def _push(self, update: JSON) -> web.Response:
        self.tg.push_update(update)
        return web.json_response({"ok": True, "update_id": update["update_id"]})

    async def _send(self, request: web.Request) -> web.Response:
        body = await _json(request)
        person, chat, thread_id = self._actor(body)
        text = str(body.get("text") or "").strip()
        if not text:
            raise web.HTTPBadRequest(text="empty message")
        if len(text) > 4096:
            raise web.HTTPBadRequest(text="message too long")
        reply_to = self._reply_to(chat, body)
        return self._push(person.text(text, chat, reply_to, thread_id))

    def _reply_to(self, chat: FakeChat, body: JSON) -> int | None:
        value = body.get("reply_to")
        if value in (None, ""):
            return None
        target = chat.messages.get(_int(value))
        if target is None or target.deleted:
            raise web.HTTPBadRequest(text="no such message to reply to")
        return target.message_id

    async def _photo(self, request: web.Request) -> web.Response:
        form = await request.post()
        upload = form.get("file")
        content = upload.file.read() if isinstance(upload, web.FileField) else None
        if not content or len(content) > MAX_PHOTO or image_size(content) is None:
            raise web.HTTPBadRequest(text="send a PNG, JPEG, GIF or WebP image up to 10 MB")
        fields: JSON = {k: v for k, v in form.items() if isinstance(v, str)}
        person, chat, thread_id = self._actor(fields)
        caption = (fields.get("caption") or "").strip() or None
        reply_to = self._reply_to(chat, fields)
        return self._push(
            person.photo(caption, None, chat, reply_to, content=content, thread_id=thread_id)
        )

    async def _press(self, request: web.Request) -> web.Response:
        body = await _json(request)
        person, chat, _thread = self._actor(body)
        message = chat.messages.get(_int(body.get("message_id")))
        if message is None or message.deleted:
            raise web.HTTPBadRequest(text="no such message")
        data = body.get("data")
        offered = {b.get("callback_data") for row in message.inline_keyboard for b in row}
        if data is None or data not in offered:
            raise web.HTTPBadRequest(text="that button is not on the message")
        return self._push(person.press_data(message, str(data)))

    async def _tap(self, request: web.Request) -> web.Response:
        body = await _json(request)
        person, chat, _thread = self._actor(body)
        try:
            update = person.tap_reply_button(str(body.get("text") or ""), chat)
        except LookupError as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        return self._push(update)

    async def _contact(self, request: web.Request) -> web.Response:
        body = await _json(request)
        person, chat, _thread = self._actor(body)
        return self._push(person.share_contact(chat_id=chat))

    async def _language(self, request: web.Request) -> web.Response:
        body = await _json(request)
        user_id = _int(body.get("user_id"))
        language = str(body.get("language") or "")
        if language not in LANGUAGE_CODES or user_id not in self.tg.users:
            raise web.HTTPBadRequest(text="unknown participant or language")
        self.tg.users[user_id].language_code = language
        for person in self.world.residents + self.world.new_residents + self.world.staff:
            if person.id == user_id:
                person.language = language
        return web.json_response({"ok": True, "user_id": user_id, "language": language})

    async def _new_resident(self, request: web.Request) -> web.Response:
        body = await _json(request)
        name = str(body.get("name") or "").strip()[:64]
        phone = "".join(c for c in str(body.get("phone") or "") if c.isdigit() or c == "+")
        language = str(body.get("language") or "en")
        if not name or len(phone.strip("+")) < 6 or language not in LANGUAGE_CODES:
            raise web.HTTPBadRequest(text="a name and a phone number are needed")
        person = self.world.add_resident(self.tg, name, phone, language)
        return web.json_response(person.to_json())


def reply_keyboard_json(chat: FakeChat) -> list[list[JSON]] | None:
    keyboard = chat.reply_keyboard
    if not keyboard:
        return None
    return [
        [
            {"text": str(b.get("text", "")), "contact": bool(b.get("request_contact"))}
            for b in row
        ]
        for row in keyboard.get("keyboard", [])
    ]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise web.HTTPBadRequest(text=f"not a number: {value!r}") from error


async def _json(request: web.Request) -> JSON:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError) as error:
        raise web.HTTPBadRequest(text="JSON body expected") from error
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="JSON object expected")
    return body


async def _sse(response: web.StreamResponse, payload: JSON) -> None:
    await response.write(f"data: {json.dumps(payload, ensure_ascii=False)}\n\n".encode())


@contextlib.asynccontextmanager
async def running(**options: Any) -> AsyncIterator[Playground]:
    playground = Playground(**options)
    try:
        await playground.start()
        yield playground
    finally:
        await playground.stop()
