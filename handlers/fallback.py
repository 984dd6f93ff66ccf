"""Last in line: button data nobody understood gets a short alert and changes nothing."""

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

router = Router(name="fallback")


@router.callback_query()
async def unknown_button(query: CallbackQuery) -> None:
    await query.answer(_("This button is out of date."), show_alert=True)
