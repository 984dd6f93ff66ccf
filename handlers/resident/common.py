"""Pieces the resident routers share."""

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.ui import keyboards


async def show_menu(message: Message, text: str) -> None:
    await message.answer(text, reply_markup=keyboards.main_menu(_))


def help_text() -> str:
    return "\n".join(
        [
            _("<b>How to use this bot</b>"),
            _("📝 New request — report a repair, complain, suggest, ask or praise."),
            _("📋 My requests — follow your requests, add comments, cancel."),
            _("🌐 Language — choose the language of the bot."),
            _("Reply to any message about a request to write to the team handling it."),
            _("/cancel leaves any dialog at any step."),
        ]
    )
