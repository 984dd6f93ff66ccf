"""Middlewares on the way in: de-duplication and who is writing, locale, flood control; on the
way out, waking the sender."""

import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware
from aiogram.utils.i18n import gettext as _

from bot.i18n import locale_for
from bot.services import Services
from bot.services.residents import ResidentInfo
from bot.services.updates import Arrival

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class RecordArrival(BaseMiddleware):
    """A redelivered update (same ``update_id``) does nothing the second time. In the same
    transaction, who sent it: handlers find it in ``arrival``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        private = chat is None or chat.type == "private"
        arrival = await self.services.updates.arrive(
            event.update_id, user.id if user else None, chat.id if chat else None, private
        )
        if arrival.duplicate:
            return None
        data["arrival"] = arrival
        return await handler(event, data)


def sender_info(arrival: Arrival) -> ResidentInfo:
    """The resident behind a private update, as read on arrival (before the handler changed
    anything). Private updates always have a sender, so it was read."""
    assert arrival.resident is not None
    return arrival.resident


class WakeSender(BaseMiddleware):
    """After an update that queued messages, the outbox sender delivers them at once."""

    def __init__(self, kick: Callable[[], None], queued: Callable[[], int]) -> None:
        self.kick = kick
        self.queued = queued  # how many rows this process has queued so far

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        before = self.queued()
        try:
            return await handler(event, data)
        finally:
            if self.queued() != before:
                self.kick()


class DialogWritesAtEnd(BaseMiddleware):
    """An update's dialog-state writes reach the database once, when it has been handled."""

    def __init__(self, writes_at_end: Callable[[], AbstractAsyncContextManager[None]]) -> None:
        self.writes_at_end = writes_at_end

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.writes_at_end():
            return await handler(event, data)


class LocaleMiddleware(I18nMiddleware):
    """A resident's chosen language, else a staff member's, else their Telegram language."""

    def __init__(self, i18n: I18n, services: Services) -> None:
        super().__init__(i18n)
        self.services = services

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user: User | None = data.get("event_from_user")
        if user is None:
            return self.i18n.default_locale
        chat: Chat | None = data.get("event_chat")
        arrival: Arrival = data["arrival"]  # RecordArrival runs first
        if chat is not None and chat.type != "private":
            return arrival.group_locale or self.i18n.default_locale
        info = sender_info(arrival)
        if info.unreachable:
            await self.services.reachability.resident_back(user.id)  # they wrote again
        if info.standing != "unknown":
            return info.locale
        staff = arrival.staff
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
