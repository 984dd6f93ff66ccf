"""Middlewares on the way in: de-duplication, locale, and waking the sender on the way out."""

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _

from bot.i18n import locale_for
from bot.services import Services

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class DeduplicateUpdates(BaseMiddleware):
    """A redelivered update (same ``update_id``) does nothing the second time."""

    def __init__(self, seen: Callable[[int], Awaitable[bool]]) -> None:
        self.seen = seen

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if isinstance(event, Update) and await self.seen(event.update_id):
            return None
        return await handler(event, data)


class WakeSender(BaseMiddleware):
    """After each update, the outbox sender delivers what the handler queued."""

    def __init__(self, kick: Callable[[], None]) -> None:
        self.kick = kick

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        finally:
            self.kick()


class LocaleMiddleware(I18nMiddleware):
    """A resident's chosen language, else a staff member's, else their Telegram language."""

    def __init__(self, i18n: I18n, services: Services) -> None:
        super().__init__(i18n)
        self.services = services

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.i18n.default_locale
        chat = data.get("event_chat")
        if chat is not None and chat.type != "private":
            return await self.services.staff.group_locale(chat.id) or self.i18n.default_locale
        info = await self.services.residents.info(user.id)
        if info.unreachable:
            await self.services.reachability.resident_back(user.id)  # they wrote again
        if info.standing != "unknown":
            return info.locale
        staff = await self.services.staff.lookup(user.id)
        if staff is not None and staff.locale:
            return staff.locale
        return locale_for(user.language_code)


class FloodControl(BaseMiddleware):
    """A user sending more than ``limit`` messages or taps within ``window`` seconds is slowed:
    further updates are dropped until the window clears, with one polite notice. Staff are exempt."""

    def __init__(
        self,
        limit: int,
        window: float,
        is_staff: Callable[[int], Awaitable[bool]],
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window = window
        self.is_staff = is_staff
        self.now = now
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or self.limit <= 0:
            return await handler(event, data)
        moment = self.now()
        seen = self._seen.setdefault(user.id, deque())
        while seen and seen[0] <= moment - self.window:
            seen.popleft()
        seen.append(moment)
        if len(seen) <= self.limit or await self.is_staff(user.id):
            return await handler(event, data)
        if self._warned.get(user.id, -1e18) <= moment - self.window:
            self._warned[user.id] = moment
            await self._warn(event, data)
        return None

    async def _warn(self, event: TelegramObject, data: dict[str, Any]) -> None:
        text = _("You are sending messages very fast. Please wait a few seconds and try again.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message) and event.chat.type == "private":
            await event.answer(text)
