"""Filters shared by the routers."""

from collections.abc import Callable
from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import I18n, get_i18n

from bot.i18n import LOCALES
from bot.ui import keyboards


class MenuButton(Filter):
    """A tap on a main-menu button, in whichever language the keyboard was shown."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def __call__(self, message: Message, **_: Any) -> bool:
        if not message.text:
            return False
        i18n = get_i18n()
        return any(
            message.text == keyboards.menu_labels(_bound(i18n, locale))[self.key]
            for locale in LOCALES
        )


def _bound(i18n: I18n, locale: str) -> Callable[[str], str]:
    def translate(text: str) -> str:
        return i18n.gettext(text, locale=locale)

    return translate
