"""Filters shared by the routers."""

from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message
from aiogram.utils.i18n import get_i18n

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
        for locale in LOCALES:
            labels = keyboards.menu_labels(lambda text, loc=locale: i18n.gettext(text, locale=loc))
            if message.text == labels[self.key]:
                return True
        return False
