"""Typed callback data of the managers' console (payloads stay far under 64 bytes)."""

from aiogram.filters.callback_data import CallbackData

from bot.ui.callbacks import Id


class ConsoleAct(CallbackData, prefix="mc"):
    """A manager's button on a request: open it, put it on hold, reopen or close it."""

    action: str  # view, hold, reopen, close
    ticket_id: Id
