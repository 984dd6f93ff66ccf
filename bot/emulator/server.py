"""A fake Telegram Bot API server for end-to-end tests.

Point the real aiogram ``Bot`` (with its real ``AiohttpSession``) at ``FakeTelegram.base_url``::

    async with FakeTelegram() as tg:
        bot = tg.make_bot()  # real Bot + AiohttpSession(api=TelegramAPIServer.from_base(...))
        tg.add_user(42, "Alice")
        await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
        assert tg.last_bot_message(42).text == "hi"

Request decoding follows what aiogram sends (urlencoded or multipart form fields, non-strings
JSON-encoded, files as multipart parts referenced by ``attach://name``); JSON bodies and query
strings are accepted too.  Answers are ``{"ok": true, "result": ...}`` or
``{"ok": false, "error_code": N, "description": ..., "parameters": {...}}`` with HTTP status N.

The method list comes from the official spec (``api.json``): unknown methods get 404, known but
unimplemented methods get 501 (and are recorded in ``unimplemented``), missing required
parameters get 400.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import mimetypes
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from .formatting import (
    EntityParseError,
    detect_entities,
    parse_text,
    strip_text,
    utf16_len,
    validate_entities,
)
from .media import image_size, thumbnail_sizes
from .ratelimit import RateLimitConfig, SlidingWindowLimiter
from .spec import ApiSpec, decode_params, missing_required
from .state import (
    JSON,
    ApiCall,
    ApiError,
    CallbackQueryState,
    FakeChat,
    FakeUser,
    StoredFile,
    StoredMessage,
    Upload,
    bad_request,
    forbidden,
)

if TYPE_CHECKING:
    from aiogram import Bot

    from .actors import Group, Person

log = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

Handler = Callable[[JSON, dict[str, Upload]], Any]
MessageRef = Any
"""A message: StoredMessage, a Message dict (with "chat"), an aiogram Message, or
(chat_id, message_id)."""

CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
# Update types that are only delivered when requested explicitly in allowed_updates.
OPT_IN_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
INLINE_BUTTON_ACTIONS = {
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
}
_FILE_FOLDERS = {
    "photo": ("photos", ".jpg"),
    "document": ("documents", ".bin"),
    "voice": ("voice", ".oga"),
    "sticker": ("stickers", ".webp"),
    "video": ("videos", ".mp4"),
    "audio": ("music", ".mp3"),
    "animation": ("animations", ".mp4"),
}
_FILE_ID_PREFIX = {
    "photo": "AgAC",
    "document": "BQAC",
    "voice": "AwAC",
    "sticker": "CAAC",
    "video": "BAAC",
    "audio": "CQAC",
    "animation": "CgAC",
}


def is_send_method(method: str) -> bool:
    """Calls that create messages: subject to flood control, burst_429 and random 500s."""
    if method == "sendChatAction":
        return False
    return method.startswith("send") or method in {
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    }


@dataclass
class WebhookState:
    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    ip_address: str | None = None
    has_custom_certificate: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _FailRule:
    method: str | None
    error_code: int
    description: str
    remaining: int
    parameters: JSON | None = None


@dataclass
class _DropRule:
    method: str | None
    remaining: int


@dataclass
class WebhookDelivery:
    update: JSON
    status: int
    error: str | None = None
    reply_method: str | None = None


@dataclass
class _Outcome:
    status: int
    body: JSON
    drop: bool = False


@dataclass
class _Counters:
    update_id: int = 100_000
    file: int = 0
    callback: int = 0
    media_group: int = 13_000_000_000_000_000


class FakeTelegram:
    """In-memory Telegram Bot API over real HTTP (127.0.0.1, free port)."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "frontdoor_test_bot",
        bot_first_name: str = "Frontdoor",
        spec_path: str | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        strict_html_entities: bool = False,
        allow_insecure_webhooks: bool = True,
        callback_query_ttl: float | None = None,
    ) -> None:
        prefix = token.split(":", 1)[0]
        if not prefix.isdigit():
            raise ValueError("token must look like '<bot id>:<secret>'")
        self.token = token
        self.bot_id = int(prefix)
        self.bot_user = FakeUser(
            self.bot_id, bot_first_name, username=bot_username, is_bot=True, language_code=None
        )
        self.spec = ApiSpec.load(spec_path)
        self.clock = clock
        """Wall clock for message dates (``int(clock())``); replace to control dates."""
        self.monotonic = monotonic
        self.host = host
        self.strict_html_entities = strict_html_entities
        self.allow_insecure_webhooks = allow_insecure_webhooks
        self.callback_query_ttl = callback_query_ttl

        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._url_files: dict[str, StoredFile] = {}

        self.calls: list[ApiCall] = []
        self.unimplemented: list[ApiCall] = []
        self.internal_errors: list[str] = []
        self.callback_answers: list[JSON] = []
        self._callbacks: dict[str, CallbackQueryState] = {}
        self.chat_actions: list[JSON] = []
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self.default_menu_button: JSON = {"type": "default"}
        self.logged_out = False
        self.closed = False

        self.webhook = WebhookState()
        self.webhook_deliveries: list[WebhookDelivery] = []
        self._updates: list[JSON] = []
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._update_event: asyncio.Event | None = None
        self._closing = False

        self.rate_config = RateLimitConfig()
        self._limiter = SlidingWindowLimiter(lambda: self.monotonic())
        self.rate_limit_violations = 0

        self._fail_rules: list[_FailRule] = []
        self._drop_rules: list[_DropRule] = []
        self._burst_remaining = 0
        self._burst_retry_after = 1
        self._server_error_rate = 0.0
        self._rng = random.Random(0)

        self._counters = _Counters()
        self._handlers: dict[str, Handler] = self._build_handlers()
        self._listeners: list[Callable[[JSON], None]] = []

        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port: int | None = None

    # ================================================================== lifecycle
    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._closing = False
        self._update_event = asyncio.Event()
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = int(sockets[0].getsockname()[1])
        self._runner = runner

    async def stop(self) -> None:
        self._closing = True
        if self._update_event is not None:
            self._update_event.set()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def make_bot(self, **bot_kwargs: Any) -> Bot:
        """A real aiogram Bot with a real AiohttpSession pointed at this server."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(self.token, session=session, **bot_kwargs)

    # ================================================================== world setup
    def add_user(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        username: str | None = None,
        *,
        last_name: str | None = None,
        phone: str | None = None,
        started: bool = True,
        is_bot: bool = False,
        is_premium: bool = False,
    ) -> FakeUser:
        """Create a user and their private chat with the bot (chat id == user id).

        ``started=False``: the user never opened the bot, sends give 403
        "bot can't initiate conversation with a user" until the user writes.
        """
        if user_id <= 0:
            raise ValueError("user ids are positive")
        user = FakeUser(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_bot=is_bot,
            phone=phone,
            started=started,
            is_premium=is_premium,
        )
        self.users[user_id] = user
        existing = self.chats.get(user_id)
        if existing is None:
            self.chats[user_id] = FakeChat(user_id, "private", user=user)
        else:
            existing.user = user
        return user

    def add_group(
        self,
        chat_id: int,
        title: str,
        forum: bool = False,
        *,
        supergroup: bool | None = None,
        username: str | None = None,
        bot_admin: bool = True,
    ) -> FakeChat:
        """Create a group.  Supergroup if ``forum`` or the id looks like ``-100...``."""
        if chat_id >= 0:
            raise ValueError("group ids are negative")
        if supergroup is None:
            supergroup = forum or str(chat_id).startswith("-100")
        chat = FakeChat(
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            username=username,
            is_forum=forum,
            bot_admin=bot_admin,
        )
        chat.members[self.bot_id] = "administrator" if bot_admin else "member"
        self.chats[chat_id] = chat
        return chat

    def person(
        self,
        user_id: int,
        first_name: str,
        language_code: str | None = "en",
        phone: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        started: bool = True,
    ) -> Person:
        """An actor playing a human (creates the user if needed)."""
        from .actors import Person

        user = self.users.get(user_id)
        if user is None:
            user = self.add_user(
                user_id,
                first_name,
                language_code,
                username,
                last_name=last_name,
                phone=phone,
                started=started,
            )
        elif phone is not None:
            user.phone = phone
        return Person(self, user)

    def group(self, chat_id: int, title: str | None = None, forum: bool = False) -> Group:
        """Actor helper for a group (created with ``title`` if it does not exist yet)."""
        from .actors import Group

        if chat_id not in self.chats:
            self.add_group(chat_id, title or f"Group {chat_id}", forum=forum)
        return Group(self, self.chats[chat_id])

    def set_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """Set a user's status in a group: creator/administrator/member/left/kicked."""
        if status not in {"creator", "administrator", "member", "left", "kicked", "restricted"}:
            raise ValueError(f"unknown status {status!r}")
        self.chats[chat_id].members[user_id] = status

    def block(self, user_id: int) -> None:
        """The user blocked the bot: sends give 403 "bot was blocked by the user"."""
        self.users[user_id].blocked = True

    def unblock(self, user_id: int) -> None:
        self.users[user_id].blocked = False

    def deactivate(self, user_id: int) -> None:
        """The account was deleted: sends give 403 "user is deactivated"."""
        self.users[user_id].deactivated = True

    def kick(self, group_id: int) -> None:
        """The bot was removed from the group: 403 "bot was kicked from the group chat"."""
        chat = self.chats[group_id]
        chat.kicked = True
        chat.members[self.bot_id] = "kicked" if chat.type == "supergroup" else "left"

    def rejoin(self, group_id: int, admin: bool | None = None) -> None:
        chat = self.chats[group_id]
        chat.kicked = False
        if admin is not None:
            chat.bot_admin = admin
        chat.members[self.bot_id] = "administrator" if chat.bot_admin else "member"

    def upgrade(self, group_id: int, new_supergroup_id: int) -> FakeChat:
        """Migrate a group to a supergroup.

        Sends to the old id then give 400 "group chat was upgraded to a supergroup chat" with
        ``parameters.migrate_to_chat_id``.  Service messages are added to both chats.
        """
        old = self.chats[group_id]
        if old.type != "group":
            raise ValueError("only basic groups can be upgraded")
        new = FakeChat(
            new_supergroup_id,
            "supergroup",
            title=old.title,
            username=old.username,
            bot_admin=old.bot_admin,
            members=dict(old.members),
            migrated_from=group_id,
        )
        self.chats[new_supergroup_id] = new
        actor = {
            "id": 1087968824,
            "is_bot": True,
            "first_name": "Group",
            "username": "GroupAnonymousBot",
        }
        self._store_message(
            old,
            actor,
            sent_by_bot=False,
            service=True,
            media={"migrate_to_chat_id": new_supergroup_id},
        )
        self._store_message(
            new, actor, sent_by_bot=False, service=True, media={"migrate_from_chat_id": group_id}
        )
        old.migrated_to = new_supergroup_id
        return new

    # ------------------------------------------------------------------ files
    def add_file(
        self,
        content: bytes,
        kind: str = "photo",
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
    ) -> StoredFile:
        """Store a file as if a user had sent it; returns it (``.file_id``, ``.file_unique_id``).

        For photos the returned file is the largest PhotoSize; ``.photo_sizes()`` gives
        the whole PhotoSize array.  Every size serves the original bytes.
        """
        if kind == "photo":
            size = image_size(content)
            w = width or (size[0] if size else 800)
            h = height or (size[1] if size else 600)
            return self._create_photo(content, w, h)
        return self._create_file(
            kind,
            content,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
            duration=duration,
        )

    def add_url_file(self, url: str, content: bytes, kind: str = "photo") -> StoredFile:
        """Make ``url`` downloadable for sendPhoto/sendDocument(url) (others get 400)."""
        stored = self.add_file(content, kind, file_name=url.rsplit("/", 1)[-1] or None)
        self._url_files[url] = stored
        return stored

    def file_content(self, file_id: str) -> bytes:
        return self.files[file_id].content

    def _next_file_ids(self, kind: str) -> tuple[int, str, str]:
        self._counters.file += 1
        number = self._counters.file
        prefix = _FILE_ID_PREFIX.get(kind, "BQAC")
        return number, f"{prefix}AgADfake{number:06d}", f"AQADfake{number:06d}"

    def _create_file(
        self,
        kind: str,
        content: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
        duration: int | None = None,
    ) -> StoredFile:
        number, file_id, unique_id = self._next_file_ids(kind)
        folder, default_ext = _FILE_FOLDERS.get(kind, ("documents", ".bin"))
        ext = default_ext
        if kind == "document" and file_name and "." in file_name:
            ext = "." + file_name.rsplit(".", 1)[-1].lower()
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        if mime_type is None and kind == "voice":
            mime_type = "audio/ogg"
        stored = StoredFile(
            file_id,
            unique_id,
            kind,
            content,
            file_name=file_name,
            mime_type=mime_type or ("application/octet-stream" if kind == "document" else None),
            width=width,
            height=height,
            duration=duration,
            file_path=f"{folder}/file_{number}{ext}",
        )
        self.files[file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _create_photo(self, content: bytes, width: int, height: int) -> StoredFile:
        sizes: list[StoredFile] = []
        for w, h in thumbnail_sizes(width, height):
            sizes.append(self._create_file("photo", content, width=w, height=h))
        for size in sizes:
            size.photo_set = sizes
        return sizes[-1]

    # ------------------------------------------------------------------ listeners
    def subscribe(self, listener: Callable[[JSON], None]) -> Callable[[], None]:
        """Call ``listener(event)`` on every change a chat window would show; returns the
        unsubscribe function.  Events (plain dicts, called synchronously, in order):

        - ``{"type": "message", "chat_id", "message_id"}``: a message was stored (bot or user)
        - ``{"type": "edit", "chat_id", "message_id"}``: a bot message was edited in place
        - ``{"type": "delete", "chat_id", "message_id"}``: a message was deleted
        - ``{"type": "alert", "chat_id", "message_id", "user_id", "text", "show_alert"}``:
          a callback query was answered with a text (a toast, or an alert box)

        A listener that raises is logged and does not disturb the API call.
        """
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def _emit(self, event: JSON) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # an observer must never break the Bot API
                log.exception("FakeTelegram listener failed on %s", event.get("type"))

    def _emit_message(self, kind: str, msg: StoredMessage) -> None:
        if self._listeners:
            self._emit({"type": kind, "chat_id": msg.chat_id, "message_id": msg.message_id})

    # ------------------------------------------------------------------ updates
    def next_update_id(self) -> int:
        self._counters.update_id += 1
        return self._counters.update_id

    def push_update(self, update: JSON) -> JSON:
        """Queue an update for getUpdates (an update_id is assigned if missing)."""
        if "update_id" not in update:
            update = {"update_id": self.next_update_id(), **update}
        self._updates.append(copy.deepcopy(update))
        if self._update_event is not None:
            self._update_event.set()
        return update

    @property
    def pending_updates(self) -> list[JSON]:
        return list(self._updates)

    # ------------------------------------------------------------------ behaviour knobs
    def rate_limits(
        self,
        enabled: bool = True,
        private_per_second: float = 1.0,
        group_per_minute: int = 20,
        global_per_second: int = 30,
    ) -> None:
        """Enable flood control (sliding-window log, see ``ratelimit.py``); resets history."""
        self.rate_config = RateLimitConfig(
            enabled, private_per_second, group_per_minute, global_per_second
        )
        self._limiter.reset()

    def fail_next(
        self,
        method: str | None,
        error_code: int,
        description: str,
        times: int = 1,
        parameters: JSON | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (None or "*": any method) with an error."""
        name = None if method in {None, "*"} else self._canonical(str(method))
        self._fail_rules.append(_FailRule(name, error_code, description, times, parameters))

    def faults(self, server_error_rate: float = 0.1, seed: int = 1) -> None:
        """Answer that share of send calls with 500 "Internal Server Error" (seeded RNG)."""
        self._server_error_rate = server_error_rate
        self._rng = random.Random(seed)

    def burst_429(self, times: int = 1, retry_after: int = 1) -> None:
        """The next ``times`` send calls get 429 "Too Many Requests: retry after N"."""
        self._burst_remaining = times
        self._burst_retry_after = retry_after

    def drop_connections(self, times: int = 1, method: str | None = None) -> None:
        """Close the connection without answering for the next ``times`` calls."""
        name = None if method in {None, "*"} else self._canonical(str(method))
        self._drop_rules.append(_DropRule(name, times))

    def clear_faults(self) -> None:
        self._fail_rules.clear()
        self._drop_rules.clear()
        self._burst_remaining = 0
        self._server_error_rate = 0.0

    def _canonical(self, method: str) -> str:
        spec = self.spec.resolve(method)
        if spec is None:
            raise ValueError(f"{method!r} is not a Bot API method")
        return spec.name

    # ================================================================== queries
    def chat(self, chat_id: int) -> FakeChat:
        return self.chats[chat_id]

    def messages(self, chat_id: int, include_deleted: bool = False) -> list[StoredMessage]:
        """All messages of a chat (user and bot, in order)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [m for _, m in sorted(chat.messages.items()) if include_deleted or not m.deleted]

    def bot_messages(
        self, chat_id: int, include_deleted: bool = False, include_service: bool = False
    ) -> list[StoredMessage]:
        """Messages the bot sent (service messages such as pins excluded by default)."""
        return [
            m
            for m in self.messages(chat_id, include_deleted)
            if m.sent_by_bot and (include_service or not m.service)
        ]

    def user_messages(self, chat_id: int, include_deleted: bool = False) -> list[StoredMessage]:
        return [m for m in self.messages(chat_id, include_deleted) if not m.sent_by_bot]

    def last_bot_message(self, chat_id: int) -> StoredMessage:
        """The newest non-deleted, non-service bot message; LookupError if there is none."""
        sent = self.bot_messages(chat_id)
        if not sent:
            raise LookupError(f"the bot has not sent anything (visible) to chat {chat_id}")
        return sent[-1]

    def get_message(self, chat_id: int, message_id: int) -> StoredMessage:
        return self.chats[chat_id].messages[message_id]

    def resolve_message(self, ref: MessageRef) -> StoredMessage:
        """Find the stored message for a StoredMessage / dict / aiogram Message / tuple."""
        if isinstance(ref, StoredMessage):
            return self.chats[ref.chat_id].messages[ref.message_id]
        if isinstance(ref, tuple):
            chat_id, message_id = ref
        elif isinstance(ref, Mapping):
            chat_id, message_id = ref["chat"]["id"], ref["message_id"]
        elif hasattr(ref, "message_id") and hasattr(ref, "chat"):
            chat_id, message_id = ref.chat.id, ref.message_id
        else:
            raise TypeError(f"cannot resolve a message from {ref!r}")
        chat = self.chats.get(int(chat_id))
        if chat is None or int(message_id) not in chat.messages:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        return chat.messages[int(message_id)]

    def find_button(self, message: MessageRef, text_substring: str) -> str:
        """callback_data of the inline button whose text matches (exact wins, else unique
        substring).  Uses the message's *current* keyboard."""
        button = self.find_inline_button(message, text_substring)
        data = button.get("callback_data")
        if data is None:
            raise LookupError(f"button {button.get('text')!r} has no callback_data")
        return str(data)

    def find_inline_button(self, message: MessageRef, text_substring: str) -> JSON:
        stored = self.resolve_message(message)
        buttons = [b for row in stored.inline_keyboard for b in row]
        return _match_button(buttons, text_substring, stored)

    def calls_to(self, method: str) -> list[ApiCall]:
        name = self._canonical(method)
        return [c for c in self.calls if c.method == name]

    def clear_calls(self) -> None:
        self.calls.clear()

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def assert_healthy(self) -> None:
        """Raise AssertionError if the bot used an unimplemented method or the fake crashed."""
        problems = [f"unimplemented method {c.method}" for c in self.unimplemented]
        problems += [f"internal error: {e}" for e in self.internal_errors]
        if problems:
            raise AssertionError("FakeTelegram problems:\n" + "\n".join(problems))

    # ================================================================== message building
    def message_dict(self, msg: StoredMessage, nested: bool = False) -> JSON:
        """The Message object for a stored message, as the Bot API returns it."""
        chat = self.chats[msg.chat_id]
        data: JSON = {
            "message_id": msg.message_id,
            "from": msg.from_user,
            "chat": chat.to_api(),
            "date": msg.date,
        }
        if msg.message_thread_id is not None:
            data["message_thread_id"] = msg.message_thread_id
            if chat.is_forum:
                data["is_topic_message"] = True
        if msg.forward_origin is not None:
            data["forward_origin"] = msg.forward_origin
        if msg.reply_to_message_id is not None and not nested:
            target = chat.messages.get(msg.reply_to_message_id)
            if target is not None and not target.deleted:
                data["reply_to_message"] = self.message_dict(target, nested=True)
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.protect_content:
            data["has_protected_content"] = True
        if msg.media_group_id is not None:
            data["media_group_id"] = msg.media_group_id
        if msg.text is not None:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = msg.entities
        data.update(msg.media)
        if msg.caption:
            data["caption"] = msg.caption
            if msg.entities:
                data["caption_entities"] = msg.entities
        if msg.reply_markup and msg.reply_markup.get("inline_keyboard"):
            data["reply_markup"] = msg.reply_markup
        return copy.deepcopy(data)

    def _store_message(
        self,
        chat: FakeChat,
        from_user: JSON,
        *,
        sent_by_bot: bool,
        **fields: Any,
    ) -> StoredMessage:
        msg = StoredMessage(
            chat_id=chat.id,
            message_id=chat.next_message_id(),
            from_user=copy.deepcopy(from_user),
            date=int(self.clock()),
            sent_by_bot=sent_by_bot,
            owner=self,
            **fields,
        )
        chat.messages[msg.message_id] = msg
        if sent_by_bot and msg.reply_markup is not None:
            if "keyboard" in msg.reply_markup:
                chat.reply_keyboard = msg.reply_markup
            elif msg.reply_markup.get("remove_keyboard"):
                chat.reply_keyboard = None
        self._emit_message("message", msg)
        return msg

    def store_user_message(self, chat_id: int, user_id: int, **fields: Any) -> StoredMessage:
        """Record a message a user sent (used by the actors); returns it."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise LookupError(f"unknown chat {chat_id}")
        user = self.users[user_id]
        if chat.type == "private":
            if chat.id != user_id:
                raise ValueError("a user can only write in their own private chat with the bot")
            user.started = True
        else:
            if chat.migrated_to is not None:
                raise ValueError(f"group {chat_id} was upgraded to {chat.migrated_to}")
            if chat.members.get(user_id) in {None, "left", "kicked"}:
                chat.members[user_id] = "member"
        return self._store_message(chat, user.to_api(), sent_by_bot=False, **fields)

    def register_callback_query(
        self, user_id: int, message: StoredMessage | None, data: str | None
    ) -> str:
        """Create a pending callback query id (used by the actors)."""
        self._counters.callback += 1
        query_id = str(4_000_000_000_000_000_000 + self.bot_id * 1000 + self._counters.callback)
        self._callbacks[query_id] = CallbackQueryState(
            query_id,
            user_id,
            message.chat_id if message else None,
            message.message_id if message else None,
            data,
            self.monotonic(),
        )
        return query_id

    def next_media_group_id(self) -> str:
        self._counters.media_group += 1
        return str(self._counters.media_group)

    # ================================================================== HTTP layer
    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.content, content_type="application/octet-stream")

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        try:
            raw, uploads = await self._read_request(request)
        except web.HTTPRequestEntityTooLarge:
            error = ApiError(413, "Request Entity Too Large")
            return web.json_response(error.payload(), status=413)
        except (ValueError, UnicodeDecodeError) as exc:
            error = bad_request(f"can't parse request: {exc}")
            return web.json_response(error.payload(), status=400)
        outcome = await self._process(
            request.match_info["token"], request.match_info["method"], raw, uploads, "http"
        )
        if outcome.drop:
            transport = request.transport
            if transport is not None:
                transport.abort()
            raise asyncio.CancelledError()
        return web.json_response(outcome.body, status=outcome.status)

    async def _read_request(self, request: web.Request) -> tuple[JSON, dict[str, Upload]]:
        raw: JSON = dict(request.query)
        uploads: dict[str, Upload] = {}
        content_type = request.content_type
        if request.method == "GET" or not request.body_exists:
            return raw, uploads
        if content_type.startswith("multipart/"):
            fields, uploads = await read_multipart(await request.multipart())
            raw.update(fields)
        elif content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            raw.update(body)
        else:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[key] = Upload(
                        key, value.filename, value.content_type, value.file.read()
                    )
                else:
                    raw[key] = str(value)
        return raw, uploads

    async def _process(
        self,
        token: str,
        method_name: str,
        raw: JSON,
        uploads: dict[str, Upload],
        source: str,
    ) -> _Outcome:
        if token != self.token:
            call = ApiCall(method_name, raw, False, 401, 401, "Unauthorized", source=source)
            self.calls.append(call)
            return _Outcome(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        spec = self.spec.resolve(method_name)
        if spec is None:
            error = ApiError(404, "Not Found: method not found")
            self.calls.append(
                ApiCall(method_name, raw, False, 404, 404, error.description, source=source)
            )
            return _Outcome(404, error.payload())
        name = spec.name
        params: JSON = dict(raw)
        call = ApiCall(name, params, False, 0, files=sorted(uploads), source=source)
        self.calls.append(call)
        try:
            params = decode_params(spec, raw, uploads)
            call.params = params
            if self._take_drop(name):
                call.description = "connection dropped (fault injection)"
                return _Outcome(0, {}, drop=True)
            self._inject_faults(name)
            handler = self._handlers.get(name)
            if handler is None:
                self.unimplemented.append(call)
                raise ApiError(
                    501,
                    f"Not Implemented: {name} is a real Bot API method ({self.spec.version}) "
                    "but FakeTelegram does not implement it",
                )
            missing = missing_required(spec, params)
            if missing is not None:
                if missing == "text" and name == "sendMessage":
                    raise bad_request("message text is empty")
                raise bad_request(f'parameter "{missing}" is required')
            result = handler(params, uploads)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            call.status = error.error_code
            call.error_code = error.error_code
            call.description = error.description
            return _Outcome(error.error_code, error.payload())
        except Exception as exc:  # the fake itself is broken: make it loud
            log.exception("FakeTelegram crashed in %s", name)
            message = f"{name}: {type(exc).__name__}: {exc}"
            self.internal_errors.append(message)
            call.status = 500
            call.error_code = 500
            call.description = f"Internal Server Error: FakeTelegram crashed: {message}"
            return _Outcome(500, {"ok": False, "error_code": 500, "description": call.description})
        call.ok = True
        call.status = 200
        call.result = result
        return _Outcome(200, {"ok": True, "result": result})

    def _take_drop(self, method: str) -> bool:
        for rule in self._drop_rules:
            if rule.remaining > 0 and rule.method in {None, method}:
                rule.remaining -= 1
                return True
        return False

    def _inject_faults(self, method: str) -> None:
        for rule in self._fail_rules:
            if rule.remaining > 0 and rule.method in {None, method}:
                rule.remaining -= 1
                raise ApiError(rule.error_code, rule.description, rule.parameters)
        if not is_send_method(method):
            return
        if self._burst_remaining > 0:
            self._burst_remaining -= 1
            retry = max(1, int(self._burst_retry_after))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        if self._server_error_rate > 0 and self._rng.random() < self._server_error_rate:
            raise ApiError(500, "Internal Server Error")

    # ================================================================== shared checks
    def _lookup_chat(self, ref: Any) -> FakeChat:
        chat: FakeChat | None = None
        if isinstance(ref, str):
            if ref.startswith("@"):
                wanted = ref[1:].lower()
                chat = next(
                    (
                        c
                        for c in self.chats.values()
                        if c.type != "private" and (c.username or "").lower() == wanted
                    ),
                    None,
                )
            elif re.fullmatch(r"-?\d+", ref.strip()):
                chat = self.chats.get(int(ref))
        elif isinstance(ref, int) and not isinstance(ref, bool):
            chat = self.chats.get(ref)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _chat_for_read(self, ref: Any) -> FakeChat:
        chat = self._lookup_chat(ref)
        if chat.migrated_to is not None:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": chat.migrated_to},
            )
        if chat.kicked:
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        return chat

    def _chat_for_write(self, ref: Any) -> FakeChat:
        chat = self._chat_for_read(ref)
        if chat.type == "private" and chat.user is not None:
            user = chat.user
            if user.is_bot:
                raise forbidden("bot can't send messages to bots")
            if user.deactivated:
                raise forbidden("user is deactivated")
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def _thread(self, chat: FakeChat, params: JSON) -> int | None:
        thread = params.get("message_thread_id")
        if thread is None:
            return None
        if not chat.is_forum:
            raise bad_request("message thread not found")
        return int(thread)

    def _reply_target(self, chat: FakeChat, params: JSON) -> int | None:
        reply = params.get("reply_parameters")
        message_id: Any = None
        allow_without = False
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_without = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") is not None:
            message_id = params.get("reply_to_message_id")
            allow_without = bool(params.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        target = chat.messages.get(int(message_id))
        if target is None or target.deleted:
            if allow_without:
                return None
            raise bad_request("message to be replied not found")
        return target.message_id

    def _validate_markup(self, markup: Any, *, inline_only: bool = False) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse inline keyboard markup JSON object")
            clean_rows: list[list[JSON]] = []
            for row in rows:
                clean_row: list[JSON] = []
                for button in row:
                    clean_row.append(self._validate_inline_button(button))
                clean_rows.append(clean_row)
            return {"inline_keyboard": clean_rows}
        if inline_only:
            raise bad_request("inline keyboard expected")
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request("can't parse reply keyboard markup JSON object")
            keyboard: list[list[JSON]] = []
            for row in rows:
                buttons: list[JSON] = []
                for button in row:
                    if isinstance(button, str):
                        button = {"text": button}
                    if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                        raise bad_request("keyboard button text must be non-empty")
                    buttons.append({k: v for k, v in button.items() if v is not None})
                keyboard.append(buttons)
            return {**{k: v for k, v in markup.items() if v is not None}, "keyboard": keyboard}
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return {k: v for k, v in markup.items() if v is not None}
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _validate_inline_button(self, button: Any) -> JSON:
        if not isinstance(button, dict):
            raise bad_request("can't parse inline keyboard button: object expected")
        text = button.get("text")
        if not isinstance(text, str) or not text:
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        clean = {k: v for k, v in button.items() if v is not None}
        actions = [k for k in clean if k in INLINE_BUTTON_ACTIONS]
        if not actions:
            raise bad_request(
                "can't parse inline keyboard button: Text buttons are unallowed in the inline "
                "keyboard"
            )
        if "callback_data" in clean:
            data = clean["callback_data"]
            if (
                not isinstance(data, str)
                or not 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise bad_request("BUTTON_DATA_INVALID")
        if "url" in clean:
            url = clean["url"]
            if not isinstance(url, str) or not url.strip():
                raise bad_request("BUTTON_URL_INVALID")
        return clean

    def _format(
        self, raw: Any, parse_mode: Any, explicit: Any, *, caption: bool
    ) -> tuple[str, list[JSON], str]:
        """Parse text/caption -> (plain, entities, source text); enforces the limits."""
        source = "" if raw is None else str(raw)
        try:
            if explicit is not None:
                plain, entities = source, validate_entities(source, explicit)
            else:
                plain, entities = parse_text(
                    source,
                    None if parse_mode is None else str(parse_mode),
                    strict_html_entities=self.strict_html_entities,
                )
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        except ValueError:
            raise bad_request("unsupported parse_mode") from None
        plain, entities = strip_text(plain, entities)
        for entity in entities:
            if entity["type"] == "text_mention":
                user_id = int((entity.get("user") or {}).get("id", 0))
                if user_id in self.users:
                    entity["user"] = self.users[user_id].to_api()
        if caption:
            if utf16_len(plain) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
        else:
            if not plain:
                raise bad_request("message text is empty")
            if utf16_len(plain) > MAX_TEXT_LENGTH:
                raise bad_request("message is too long")
        return plain, detect_entities(plain, entities), source

    def _check_rate(self, chat: FakeChat) -> None:
        if not self.rate_config.enabled:
            return
        buckets = self._limiter.buckets_for(self.rate_config, chat.id, chat.type == "private")
        retry = self._limiter.hit(buckets)
        if retry is not None:
            self.rate_limit_violations += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    def _new_bot_message(
        self, chat: FakeChat, method: str, params: JSON, **fields: Any
    ) -> StoredMessage:
        return self._store_message(
            chat,
            self._bot_from(),
            sent_by_bot=True,
            method=method,
            params=_printable(params),
            protect_content=bool(params.get("protect_content")),
            **fields,
        )

    def _bot_from(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_user.first_name,
            "username": self.bot_user.username,
        }

    def _resolve_input_file(self, value: Any, kind: str, uploads: dict[str, Upload]) -> StoredFile:
        if isinstance(value, str) and value.startswith("attach://"):
            key = value[len("attach://") :]
            if key not in uploads:
                raise bad_request("can't parse InputMedia: media not found")
            value = uploads[key]
        if isinstance(value, Upload):
            if not value.data:
                raise bad_request("file must be non-empty")
            if kind == "photo":
                size = image_size(value.data) or (800, 600)
                return self._create_photo(value.data, size[0], size[1])
            mime = None
            if value.content_type and value.content_type != "application/octet-stream":
                mime = value.content_type
            return self._create_file(kind, value.data, file_name=value.filename, mime_type=mime)
        if isinstance(value, str):
            if value.startswith(("http://", "https://")):
                stored = self._url_files.get(value)
                if stored is None:
                    raise bad_request("wrong file identifier/HTTP URL specified")
                return stored
            stored = self.files.get(value)
            if stored is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            if stored.kind != kind:
                raise bad_request(
                    f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
                )
            if kind == "photo" and stored.photo_set:
                return stored.photo_set[-1]
            return stored
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _media_field(self, stored: StoredFile) -> JSON:
        if stored.kind == "photo":
            return {"photo": stored.photo_sizes()}
        return {stored.kind: stored.media_object()}

    def _editable(self, params: JSON) -> tuple[FakeChat, StoredMessage]:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        if params.get("chat_id") is None:
            raise bad_request("chat_id is empty")
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        chat = self._chat_for_write(params["chat_id"])
        msg = chat.messages.get(int(params["message_id"]))
        if msg is None or msg.deleted:
            raise bad_request("message to edit not found")
        if not msg.sent_by_bot:
            raise bad_request("message can't be edited")
        return chat, msg

    def _apply_edit(self, msg: StoredMessage, **changes: Any) -> None:
        msg.history.append(
            {
                "text": msg.text,
                "caption": msg.caption,
                "entities": copy.deepcopy(msg.entities),
                "reply_markup": copy.deepcopy(msg.reply_markup),
                "raw_text": msg.raw_text,
            }
        )
        for key, value in changes.items():
            setattr(msg, key, value)
        msg.edit_count += 1
        msg.edit_date = int(self.clock())
        self._emit_message("edit", msg)

    # ================================================================== handlers
    def _build_handlers(self) -> dict[str, Handler]:
        handlers: dict[str, Handler] = {
            "getMe": self._m_get_me,
            "sendMessage": self._m_send_message,
            "editMessageText": self._m_edit_message_text,
            "editMessageReplyMarkup": self._m_edit_message_reply_markup,
            "editMessageCaption": self._m_edit_message_caption,
            "deleteMessage": self._m_delete_message,
            "answerCallbackQuery": self._m_answer_callback_query,
            "sendPhoto": self._m_send_photo,
            "sendDocument": self._m_send_document,
            "sendMediaGroup": self._m_send_media_group,
            "copyMessage": self._m_copy_message,
            "forwardMessage": self._m_forward_message,
            "getFile": self._m_get_file,
            "setMyCommands": self._m_set_my_commands,
            "deleteMyCommands": self._m_delete_my_commands,
            "getMyCommands": self._m_get_my_commands,
            "getUpdates": self._m_get_updates,
            "setWebhook": self._m_set_webhook,
            "deleteWebhook": self._m_delete_webhook,
            "getWebhookInfo": self._m_get_webhook_info,
            "getChat": self._m_get_chat,
            "getChatMember": self._m_get_chat_member,
            "sendChatAction": self._m_send_chat_action,
            "pinChatMessage": self._m_pin_chat_message,
            "unpinChatMessage": self._m_unpin_chat_message,
            "setChatMenuButton": self._m_set_chat_menu_button,
            "getChatMenuButton": self._m_get_chat_menu_button,
            "close": self._m_close,
            "logOut": self._m_log_out,
        }
        unknown = [name for name in handlers if name not in self.spec.methods]
        if unknown:
            raise RuntimeError(f"handlers for methods missing from the spec: {unknown}")
        return handlers

    def _m_get_me(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return {
            **self.bot_user.to_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ---------------------------------------------------------------- sending
    def _m_send_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_write(params["chat_id"])
        text, entities, source = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        thread = self._thread(chat, params)
        reply_to = self._reply_target(chat, params)
        markup = self._validate_markup(params.get("reply_markup"))
        self._check_rate(chat)
        msg = self._new_bot_message(
            chat,
            "sendMessage",
            params,
            text=text,
            entities=entities,
            raw_text=source,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            message_thread_id=thread,
        )
        return self.message_dict(msg)

    def _send_file_message(
        self, method: str, kind: str, params: JSON, uploads: dict[str, Upload]
    ) -> JSON:
        chat = self._chat_for_write(params["chat_id"])
        caption, entities, source = self._format(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        thread = self._thread(chat, params)
        reply_to = self._reply_target(chat, params)
        markup = self._validate_markup(params.get("reply_markup"))
        stored = self._resolve_input_file(params[kind], kind, uploads)
        self._check_rate(chat)
        media = self._media_field(stored)
        if params.get("has_spoiler"):
            media["has_media_spoiler"] = True
        msg = self._new_bot_message(
            chat,
            method,
            params,
            caption=caption or None,
            entities=entities if caption else [],
            raw_text=source if caption else None,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            reply_to_message_id=reply_to,
            message_thread_id=thread,
            media=media,
        )
        return self.message_dict(msg)

    def _m_send_photo(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return self._send_file_message("sendPhoto", "photo", params, uploads)

    def _m_send_document(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return self._send_file_message("sendDocument", "document", params, uploads)

    def _m_send_media_group(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        chat = self._chat_for_write(params["chat_id"])
        items = params["media"]
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise bad_request("can't parse media JSON object")
        if not items:
            raise bad_request("media to send are not specified")
        if len(items) > 10:
            raise bad_request("too much messages to send as an album")
        if len(items) < 2:
            raise bad_request("a media group must contain at least 2 items")
        kinds = [str(item.get("type")) for item in items]
        for kind in kinds:
            if kind not in {"photo", "video", "document", "audio"}:
                raise bad_request(f'can\'t parse InputMedia: unsupported media type "{kind}"')
        if "document" in kinds and set(kinds) != {"document"}:
            raise bad_request("documents can't be mixed with other media types in an album")
        if "audio" in kinds and set(kinds) != {"audio"}:
            raise bad_request("audio can't be mixed with other media types in an album")
        thread = self._thread(chat, params)
        reply_to = self._reply_target(chat, params)
        prepared: list[tuple[StoredFile, str, list[JSON], str, Any]] = []
        for item in items:
            caption, entities, source = self._format(
                item.get("caption"),
                item.get("parse_mode"),
                item.get("caption_entities"),
                caption=True,
            )
            if "media" not in item:
                raise bad_request("can't parse InputMedia: media not found")
            stored = self._resolve_input_file(item["media"], str(item["type"]), uploads)
            prepared.append((stored, caption, entities, source, item.get("parse_mode")))
        self._check_rate(chat)
        group_id = self.next_media_group_id()
        result: list[JSON] = []
        for stored, caption, entities, source, parse_mode in prepared:
            msg = self._new_bot_message(
                chat,
                "sendMediaGroup",
                params,
                caption=caption or None,
                entities=entities if caption else [],
                raw_text=source if caption else None,
                parse_mode=parse_mode,
                reply_to_message_id=reply_to,
                message_thread_id=thread,
                media_group_id=group_id,
                media=self._media_field(stored),
            )
            result.append(self.message_dict(msg))
        return result

    def _source_message(self, params: JSON, action: str) -> StoredMessage:
        source_chat = self._chat_for_read(params["from_chat_id"])
        msg = source_chat.messages.get(int(params["message_id"]))
        if msg is None or msg.deleted:
            raise bad_request(f"message to {action} not found")
        if msg.text is None and not any(
            k in msg.media
            for k in (
                "photo",
                "document",
                "video",
                "audio",
                "voice",
                "sticker",
                "contact",
                "location",
                "animation",
            )
        ):
            raise bad_request(f"message can't be {'copied' if action == 'copy' else 'forwarded'}")
        return msg

    def _m_copy_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_write(params["chat_id"])
        source = self._source_message(params, "copy")
        thread = self._thread(chat, params)
        reply_to = self._reply_target(chat, params)
        markup = self._validate_markup(params.get("reply_markup"))
        text, caption, entities, raw = source.text, source.caption, source.entities, source.raw_text
        parse_mode = source.parse_mode
        if "caption" in params and source.text is None:
            new_caption, entities, raw = self._format(
                params.get("caption"),
                params.get("parse_mode"),
                params.get("caption_entities"),
                caption=True,
            )
            caption = new_caption or None
            parse_mode = params.get("parse_mode")
        self._check_rate(chat)
        msg = self._new_bot_message(
            chat,
            "copyMessage",
            params,
            text=text,
            caption=caption,
            entities=copy.deepcopy(entities),
            raw_text=raw,
            parse_mode=parse_mode,
            reply_markup=markup,
            reply_to_message_id=reply_to,
            message_thread_id=thread,
            media=copy.deepcopy(source.media),
        )
        return {"message_id": msg.message_id}

    def _m_forward_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_write(params["chat_id"])
        source = self._source_message(params, "forward")
        thread = self._thread(chat, params)
        self._check_rate(chat)
        origin = source.forward_origin or {
            "type": "user",
            "sender_user": source.from_user,
            "date": source.date,
        }
        msg = self._new_bot_message(
            chat,
            "forwardMessage",
            params,
            text=source.text,
            caption=source.caption,
            entities=copy.deepcopy(source.entities),
            raw_text=source.raw_text,
            parse_mode=source.parse_mode,
            message_thread_id=thread,
            media=copy.deepcopy(source.media),
            forward_origin=copy.deepcopy(origin),
        )
        return self.message_dict(msg)

    # ---------------------------------------------------------------- editing
    def _m_edit_message_text(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        _, msg = self._editable(params)
        if msg.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities, source = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
        if (
            text == msg.text
            and entities == msg.entities
            and markup == _inline_only(msg.reply_markup)
        ):
            raise _not_modified()
        self._apply_edit(
            msg,
            text=text,
            entities=entities,
            raw_text=source,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
        )
        return self.message_dict(msg)

    def _m_edit_message_caption(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        _, msg = self._editable(params)
        if msg.text is not None or not msg.media:
            raise bad_request("there is no caption in the message to edit")
        caption, entities, source = self._format(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )
        markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
        old_caption = msg.caption or ""
        old_entities = msg.entities if msg.caption else []
        if (
            caption == old_caption
            and (entities if caption else []) == old_entities
            and markup == _inline_only(msg.reply_markup)
        ):
            raise _not_modified()
        self._apply_edit(
            msg,
            caption=caption or None,
            entities=entities if caption else [],
            raw_text=source if caption else None,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
        )
        return self.message_dict(msg)

    def _m_edit_message_reply_markup(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        _, msg = self._editable(params)
        markup = self._validate_markup(params.get("reply_markup"), inline_only=True)
        if markup == _inline_only(msg.reply_markup):
            raise _not_modified()
        self._apply_edit(msg, reply_markup=markup)
        return self.message_dict(msg)

    def _m_delete_message(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        chat = self._chat_for_read(params["chat_id"])
        msg = chat.messages.get(int(params["message_id"]))
        if msg is None or msg.deleted:
            raise bad_request("message to delete not found")
        if chat.type != "private" and not msg.sent_by_bot and not chat.bot_admin:
            raise bad_request("message can't be deleted")
        if self.clock() - msg.date > 48 * 3600 and not (chat.type != "private" and chat.bot_admin):
            raise bad_request("message can't be deleted for everyone")
        msg.deleted = True
        if chat.pinned_message_id == msg.message_id:
            chat.pinned_message_id = None
        self._emit_message("delete", msg)
        return True

    # ---------------------------------------------------------------- callbacks
    def _m_answer_callback_query(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        query_id = str(params["callback_query_id"])
        state = self._callbacks.get(query_id)
        expired = (
            state is not None
            and self.callback_query_ttl is not None
            and self.monotonic() - state.created > self.callback_query_ttl
        )
        if state is None or state.answered or expired:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text")
        if text is not None and utf16_len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        state.answered = True
        self.callback_answers.append(
            {
                "callback_query_id": query_id,
                "text": text,
                "show_alert": bool(params.get("show_alert", False)),
                "url": params.get("url"),
                "cache_time": params.get("cache_time"),
                "user_id": state.user_id,
                "data": state.data,
            }
        )
        if text and self._listeners:
            self._emit(
                {
                    "type": "alert",
                    "chat_id": state.chat_id,
                    "message_id": state.message_id,
                    "user_id": state.user_id,
                    "text": str(text),
                    "show_alert": bool(params.get("show_alert", False)),
                }
            )
        return True

    # ---------------------------------------------------------------- files
    def _m_get_file(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        stored = self.files.get(str(params["file_id"]))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return stored.to_file()

    # ---------------------------------------------------------------- commands
    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope_obj = scope if isinstance(scope, dict) and scope else {"type": "default"}
        return json.dumps(scope_obj, sort_keys=True), str(language_code or "")

    def _check_scope(self, params: JSON) -> None:
        scope = params.get("scope")
        if scope is None:
            return
        if not isinstance(scope, dict):
            raise bad_request("can't parse BotCommandScope JSON object")
        kind = scope.get("type")
        simple = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
        if kind in simple:
            return
        if kind in {"chat", "chat_administrators", "chat_member"}:
            self._lookup_chat(scope.get("chat_id"))
            if kind == "chat_member" and int(scope.get("user_id", 0)) not in self.users:
                raise bad_request("user not found")
            return
        raise bad_request("wrong bot command scope type specified")

    def _check_language(self, params: JSON) -> str:
        code = str(params.get("language_code") or "")
        if code and not re.fullmatch(r"[a-z]{2}", code):
            raise bad_request("invalid language code specified")
        return code

    def _m_set_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        commands = params["commands"]
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        clean: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description.strip()) <= 256:
                raise bad_request("command description must be 1-256 characters long")
            clean.append({"command": name, "description": description})
        self._check_scope(params)
        language = self._check_language(params)
        key = self._commands_key(params.get("scope"), language)
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    def _m_delete_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self._check_scope(params)
        language = self._check_language(params)
        self._commands.pop(self._commands_key(params.get("scope"), language), None)
        return True

    def _m_get_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        self._check_scope(params)
        language = self._check_language(params)
        return copy.deepcopy(
            self._commands.get(self._commands_key(params.get("scope"), language), [])
        )

    # ---------------------------------------------------------------- updates / webhook
    def _update_allowed(self, update: JSON) -> bool:
        kinds = [k for k in update if k != "update_id"]
        kind = kinds[0] if kinds else ""
        allowed = self._allowed_updates
        if not allowed:
            return kind not in OPT_IN_UPDATES
        return kind in allowed

    def _confirm(self, offset: Any) -> None:
        if offset is None:
            return
        offset = int(offset)
        if offset > 0:
            self._updates = [u for u in self._updates if int(u["update_id"]) >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    async def _m_get_updates(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        if self.webhook.url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        if "allowed_updates" in params:
            allowed = params["allowed_updates"]
            self._allowed_updates = list(allowed) if isinstance(allowed, list) else None
        self._poll_generation += 1
        generation = self._poll_generation
        event = self._update_event
        if event is not None:
            event.set()  # wake an older long poll so it ends with 409
        self._confirm(params.get("offset"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            self._updates = [u for u in self._updates if self._update_allowed(u)]
            if self._updates or self._closing or event is None:
                return copy.deepcopy(self._updates[:limit])
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            event.clear()
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                pass

    def _m_set_webhook(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        url = str(params.get("url") or "")
        if not url:
            self._clear_webhook(bool(params.get("drop_pending_updates")))
            return True
        parts = urlsplit(url)
        if parts.scheme not in {"https", "http"} or not parts.netloc:
            raise bad_request("bad webhook: Wrong URL host")
        if parts.scheme == "http" and not self.allow_insecure_webhooks:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        max_connections = int(params.get("max_connections") or 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = list(allowed)
        self.webhook = WebhookState(
            url=url,
            secret_token=None if secret is None else str(secret),
            allowed_updates=list(allowed) if isinstance(allowed, list) else None,
            max_connections=max_connections,
            ip_address=params.get("ip_address"),
            has_custom_certificate=params.get("certificate") is not None,
        )
        return True

    def _clear_webhook(self, drop_pending: bool) -> None:
        self.webhook = WebhookState()
        if drop_pending:
            self._updates.clear()

    def _m_delete_webhook(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self._clear_webhook(bool(params.get("drop_pending_updates")))
        return True

    def _m_get_webhook_info(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        info: JSON = {
            "url": self.webhook.url,
            "has_custom_certificate": self.webhook.has_custom_certificate,
            "pending_update_count": len(self._updates),
        }
        if self.webhook.url:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.ip_address:
                info["ip_address"] = self.webhook.ip_address
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
            if self.webhook.last_error_date is not None:
                info["last_error_date"] = self.webhook.last_error_date
                info["last_error_message"] = self.webhook.last_error_message
        return info

    async def deliver_webhook(self, update: JSON, *, request_timeout: float = 10.0) -> int:
        """POST ``update`` to the registered webhook like Telegram; returns the HTTP status
        (0 if the connection failed).  A method call in the answer body (aiogram's
        "reply into webhook") is executed like Telegram does."""
        if not self.webhook.url:
            raise RuntimeError("no webhook is set (call setWebhook first)")
        if "update_id" not in update:
            update = {"update_id": self.next_update_id(), **update}
        headers = {"Content-Type": "application/json"}
        if self.webhook.secret_token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook.secret_token
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession()
        delivery = WebhookDelivery(copy.deepcopy(update), 0)
        self.webhook_deliveries.append(delivery)
        try:
            async with self._client.post(
                self.webhook.url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=request_timeout),
            ) as response:
                delivery.status = response.status
                fields: JSON = {}
                files: dict[str, Upload] = {}
                if response.status == 200:
                    fields, files = await _read_reply_body(response)
                else:
                    self.webhook.last_error_date = int(self.clock())
                    self.webhook.last_error_message = (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
        except (aiohttp.ClientError, TimeoutError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
            self.webhook.last_error_date = int(self.clock())
            self.webhook.last_error_message = "Connection refused"
            return 0
        method = fields.pop("method", None)
        if isinstance(method, str) and method:
            delivery.reply_method = method
            await self._process(self.token, method, fields, files, "webhook-reply")
        return delivery.status

    # ---------------------------------------------------------------- chats
    def _m_get_chat(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_read(params["chat_id"])
        info = chat.to_api()
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        if chat.description:
            info["description"] = chat.description
        if chat.type != "private":
            info["permissions"] = {
                "can_send_messages": True,
                "can_send_audios": True,
                "can_send_documents": True,
                "can_send_photos": True,
                "can_send_videos": True,
                "can_send_video_notes": True,
                "can_send_voice_notes": True,
                "can_send_polls": True,
                "can_send_other_messages": True,
                "can_add_web_page_previews": True,
                "can_change_info": False,
                "can_invite_users": True,
                "can_pin_messages": False,
                "can_manage_topics": False,
            }
        if chat.pinned_message_id is not None:
            pinned = chat.messages.get(chat.pinned_message_id)
            if pinned is not None and not pinned.deleted:
                info["pinned_message"] = self.message_dict(pinned, nested=True)
        return info

    def member_object(self, user: FakeUser, status: str) -> JSON:
        data: JSON = {"status": status, "user": user.to_api()}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            data.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                    "can_manage_topics": False,
                    "can_send_welcome_messages": False,
                }
            )
        elif status == "kicked":
            data["until_date"] = 0
        elif status == "restricted":
            data.update(
                {
                    "is_member": True,
                    "can_send_messages": False,
                    "can_send_audios": False,
                    "can_send_documents": False,
                    "can_send_photos": False,
                    "can_send_videos": False,
                    "can_send_video_notes": False,
                    "can_send_voice_notes": False,
                    "can_send_polls": False,
                    "can_send_other_messages": False,
                    "can_add_web_page_previews": False,
                    "can_change_info": False,
                    "can_invite_users": False,
                    "can_pin_messages": False,
                    "can_manage_topics": False,
                    "until_date": 0,
                }
            )
        return data

    def member_dict(self, chat_id: int, user_id: int) -> JSON:
        chat = self.chats[chat_id]
        user = self.bot_user if user_id == self.bot_id else self.users[user_id]
        if chat.type == "private":
            status = "member"
        else:
            status = chat.members.get(user_id, "left")
        return self.member_object(user, status)

    def _m_get_chat_member(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_read(params["chat_id"])
        user_id = int(params["user_id"])
        if user_id != self.bot_id and user_id not in self.users:
            raise bad_request("user not found")
        if chat.type == "private" and user_id not in {chat.id, self.bot_id}:
            raise bad_request("user not found")
        return self.member_dict(chat.id, user_id)

    def _m_send_chat_action(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        chat = self._chat_for_write(params["chat_id"])
        action = str(params["action"])
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        thread = self._thread(chat, params)
        self.chat_actions.append(
            {"chat_id": chat.id, "action": action, "message_thread_id": thread}
        )
        return True

    def _m_pin_chat_message(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        chat = self._chat_for_write(params["chat_id"])
        if chat.type != "private" and not chat.bot_admin:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        msg = chat.messages.get(int(params["message_id"]))
        if msg is None or msg.deleted:
            raise bad_request("message to pin not found")
        chat.pinned_message_id = msg.message_id
        self._store_message(
            chat,
            self._bot_from(),
            sent_by_bot=True,
            service=True,
            method="pinChatMessage",
            media={"pinned_message": self.message_dict(msg, nested=True)},
        )
        return True

    def _m_unpin_chat_message(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        chat = self._chat_for_write(params["chat_id"])
        if chat.type != "private" and not chat.bot_admin:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        message_id = params.get("message_id")
        if message_id is None or chat.pinned_message_id == int(message_id):
            chat.pinned_message_id = None
        return True

    def _m_set_chat_menu_button(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in {
            "default",
            "commands",
            "web_app",
        }:
            raise bad_request("can't parse menu button JSON object")
        if params.get("chat_id") is None:
            self.default_menu_button = button
            return True
        chat = self._chat_for_read(params["chat_id"])
        if chat.type != "private":
            raise bad_request("menu button can be set only in private chats")
        chat.menu_button = button
        return True

    def _m_get_chat_menu_button(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        if params.get("chat_id") is None:
            return copy.deepcopy(self.default_menu_button)
        chat = self._chat_for_read(params["chat_id"])
        return copy.deepcopy(chat.menu_button or self.default_menu_button)

    def _m_close(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self.closed = True
        return True

    def _m_log_out(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self.logged_out = True
        return True


# ====================================================================== helpers


def _not_modified() -> ApiError:
    return bad_request(
        "message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message"
    )


def _inline_only(markup: JSON | None) -> JSON | None:
    if markup and markup.get("inline_keyboard"):
        return markup
    return None


def _printable(params: JSON) -> JSON:
    return {
        k: (
            f"<upload {v.filename or v.field_name} {len(v.data)} bytes>"
            if isinstance(v, Upload)
            else v
        )
        for k, v in params.items()
    }


def _match_button(buttons: list[JSON], text: str, message: StoredMessage) -> JSON:
    exact = [b for b in buttons if b.get("text") == text]
    if exact:
        return exact[0]
    partial = [b for b in buttons if text.lower() in str(b.get("text", "")).lower()]
    if len(partial) == 1:
        return partial[0]
    texts = [b.get("text") for b in buttons]
    if not partial:
        raise LookupError(
            f"no button matching {text!r} in message {message.message_id} "
            f"of chat {message.chat_id}; buttons: {texts}"
        )
    raise LookupError(f"{text!r} matches several buttons: {[b.get('text') for b in partial]}")


class _PartSource(Protocol):
    async def next(self) -> Any: ...


async def read_multipart(reader: _PartSource) -> tuple[JSON, dict[str, Upload]]:
    """Split a multipart/form-data body into plain fields and file uploads."""
    fields: JSON = {}
    uploads: dict[str, Upload] = {}
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, aiohttp.BodyPartReader):
            nested_fields, nested_uploads = await read_multipart(part)
            fields.update(nested_fields)
            uploads.update(nested_uploads)
            continue
        name = part.name or ""
        if part.filename is not None:
            data = await part.read(decode=True)
            uploads[name] = Upload(
                name, part.filename, part.headers.get("Content-Type"), bytes(data)
            )
        else:
            fields[name] = await part.text()
    return fields, uploads


async def _read_reply_body(response: aiohttp.ClientResponse) -> tuple[JSON, dict[str, Upload]]:
    """Parse a webhook answer: JSON object or multipart form (aiogram)."""
    content_type = response.content_type
    if content_type.startswith("multipart/"):
        reader = aiohttp.MultipartReader.from_response(response)
        return await read_multipart(reader)
    body = await response.read()
    if not body.strip():
        return {}, {}
    try:
        parsed = json.loads(body)
    except ValueError:
        return {}, {}
    return (parsed, {}) if isinstance(parsed, dict) else ({}, {})
