"""The managers' console: commands for managers and admins, in a private chat with the bot or
in their estate's managers group. Anyone else is answered as for an unknown command."""

from aiogram import Router

from handlers.manager import admin, figures, requests


def build_router() -> Router:
    """A fresh parent router (tests build one dispatcher per case)."""
    router = Router(name="manager")
    for child in (figures.router, requests.router, admin.router):
        child._parent_router = None
    router.include_routers(figures.router, requests.router, admin.router)
    return router
