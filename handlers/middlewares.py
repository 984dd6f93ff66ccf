"""Middlewares on the way in: de-duplication, locale, and waking the sender on the way out."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n import I18n, I18nMiddleware

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
        if info.standing != "unknown":
            return info.locale
        staff = await self.services.staff.lookup(user.id)
        if staff is not None and staff.locale:
            return staff.locale
        return locale_for(user.language_code)
