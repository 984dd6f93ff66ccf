"""The managers' console: commands for managers and admins, in a private chat with the bot or
in their estate's managers group. Anyone else is answered as for an unknown command."""

from aiogram import Router
from aiogram.types import TelegramObject

from bot.services.updates import Arrival
from handlers.manager import admin, figures, requests


def _maybe_staff(event: TelegramObject, arrival: Arrival | None = None) -> bool:
    """Residents writing privately (the most common update) skip the console's routers
    without a lookup: on arrival we read that they are not staff."""
    return arrival is None or arrival.resident is None or arrival.staff is not None


def build_router() -> Router:
    """A fresh parent router (tests build one dispatcher per case)."""
    router = Router(name="manager")
    router.message.filter(_maybe_staff)
    router.callback_query.filter(_maybe_staff)
    for child in (figures.router, requests.router, admin.router):
        child._parent_router = None
    router.include_routers(figures.router, requests.router, admin.router)
    return router
