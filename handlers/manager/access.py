"""Who may use the console: the manager behind a message or a button, or SkipHandler."""

from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ParseMode
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n

from bot.services import Services
from bot.services.console import Manager

HTML = ParseMode.HTML


def locale() -> str:
    return get_i18n().current_locale


async def manager_of(message: Message, services: Services) -> Manager:
    """The manager who sent this, in a chat where the console answers; otherwise the update
    goes on to the other routers, exactly as an unknown command would."""
    user = message.from_user
    if user is None:
        raise SkipHandler
    manager = await services.console.manager(user.id, message.chat.id, message.chat.type)
    if manager is None:
        raise SkipHandler
    return manager


async def manager_of_query(query: CallbackQuery, services: Services) -> tuple[Manager, Message]:
    message = query.message
    if not isinstance(message, Message):
        raise SkipHandler
    manager = await services.console.manager(query.from_user.id, message.chat.id, message.chat.type)
    if manager is None:
        raise SkipHandler
    return manager, message


async def answer_parts(message: Message, parts: list[str], markup: object = None) -> None:
    """Send a long answer in parts; the buttons go with the last one."""
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await message.answer(part, parse_mode=HTML, reply_markup=markup if last else None)  # type: ignore[arg-type]
