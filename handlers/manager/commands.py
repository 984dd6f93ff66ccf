"""The command menus Telegram shows, per audience, set at start-up (``setMyCommands``).

Residents: the default scope (in English, and in Russian and Chinese for those Telegram
languages); staff groups: ``all_group_chats``; managers: the chat scope of each estate's
managers group and of each manager's private chat (in the estate's language).
"""

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)

from bot.i18n import Gettext
from bot.services import Services

log = logging.getLogger(__name__)
Scope = BotCommandScopeDefault | BotCommandScopeAllGroupChats | BotCommandScopeChat

# Telegram language codes (two letters) and the locale whose texts they get.
MENU_LANGUAGES = {"ru": "ru", "zh": "zh_Hans"}


def resident_commands(_: Gettext) -> list[BotCommand]:
    return [
        BotCommand(command="new", description=_("New request")),
        BotCommand(command="my", description=_("My requests")),
        BotCommand(command="language", description=_("Language")),
        BotCommand(command="help", description=_("Help")),
        BotCommand(command="cancel", description=_("Leave the current dialog")),
        BotCommand(command="notices", description=_("Recent announcements")),
        BotCommand(command="forget_me", description=_("Erase my personal data")),
        BotCommand(command="start", description=_("Connect to your flat")),
    ]


def group_commands(_: Gettext) -> list[BotCommand]:
    return [BotCommand(command="bind", description=_("Bind this chat to a department (admins)"))]


def manager_commands(_: Gettext) -> list[BotCommand]:
    return [
        BotCommand(command="stats", description=_("Figures for a period")),
        BotCommand(command="overdue", description=_("Requests past a deadline")),
        BotCommand(command="ticket", description=_("A request in full")),
        BotCommand(command="report", description=_("Charts and a workbook")),
        BotCommand(command="export", description=_("Requests as CSV or XLSX")),
        BotCommand(command="staff", description=_("Staff list and changes")),
        BotCommand(command="residents", description=_("Verifications and residents")),
        BotCommand(command="invite", description=_("Invitation QR codes")),
        BotCommand(command="callbacks", description=_("Calls owed to residents")),
        BotCommand(command="announce", description=_("Announce to residents")),
        BotCommand(command="help", description=_("Manager commands")),
    ]


async def publish_commands(bot: Bot, services: Services) -> int:
    """Set every menu; a scope Telegram refuses (a manager who never opened the bot has no
    private chat yet) is logged and skipped. Returns how many menus were set."""
    for_locale = services.deps.translator.for_locale
    menus: list[tuple[list[BotCommand], Scope, str | None]] = [
        (resident_commands(for_locale("en")), BotCommandScopeDefault(), None),
        (group_commands(for_locale("en")), BotCommandScopeAllGroupChats(), None),
    ]
    for telegram_code, locale in MENU_LANGUAGES.items():
        menus.append(
            (resident_commands(for_locale(locale)), BotCommandScopeDefault(), telegram_code)
        )
    for estate_language, chat_id, _slug, managers in await services.console.command_scopes():
        commands = manager_commands(for_locale(estate_language))
        if chat_id:
            menus.append((commands, BotCommandScopeChat(chat_id=chat_id), None))
        for telegram_id in managers:
            menus.append((commands, BotCommandScopeChat(chat_id=telegram_id), None))
    done = 0
    for commands, scope, code in menus:
        try:
            await bot.set_my_commands(commands, scope=scope, language_code=code)
            done += 1
        except TelegramAPIError as error:
            log.warning("command menu not set for %s: %s", scope, error)
    return done
