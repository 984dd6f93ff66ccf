"""Dispatchers and managers: assigning from an alert, and the list of callbacks owed."""

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.domain.lifecycle import Event
from bot.services import Services
from bot.ui import keyboards
from bot.ui.callbacks import CallbackDone, LeadAct
from handlers.staff.cards import refusal

router = Router(name="staff-leads")


@router.callback_query(LeadAct.filter(F.action == "assign"))
async def assign(query: CallbackQuery, callback_data: LeadAct, services: Services) -> None:
    options = await services.tickets.assign_options(query.from_user.id, callback_data.ticket_id)
    if options is None or not isinstance(query.message, Message):
        await query.answer(_("Only a dispatcher or a manager can do that."), show_alert=True)
        return
    if not options:
        await query.answer(_("This department has no active staff."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(
        reply_markup=keyboards.technicians(callback_data.ticket_id, options)
    )


@router.callback_query(LeadAct.filter(F.action == "assign_to"))
async def assign_to(query: CallbackQuery, callback_data: LeadAct, services: Services) -> None:
    result = await services.tickets.act(
        query.from_user.id,
        callback_data.ticket_id,
        Event.ASSIGN,
        assignee_id=callback_data.staff_id,
    )
    if not result.ok:
        await query.answer(refusal(result), show_alert=True)
        return
    await query.answer(_("{number}: done.").format(number=result.number))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


@router.message(Command("callbacks"))
async def callbacks(message: Message, services: Services) -> None:
    if message.from_user is None:
        return
    listing = await services.feedback.due_callbacks(message.from_user.id, get_i18n().current_locale)
    if listing is None:
        raise SkipHandler  # not for this person: answered like any unknown command
    if message.chat.type != "private":
        await message.answer(
            _("The list has names and phone numbers: ask me for it in a private chat.")
        )
        return
    await message.answer(
        listing.text,
        reply_markup=keyboards.called_back(_, listing.entries) if listing.entries else None,
    )


@router.callback_query(CallbackDone.filter())
async def called_back(
    query: CallbackQuery, callback_data: CallbackDone, services: Services
) -> None:
    if not await services.feedback.called_back(query.from_user.id, callback_data.callback_id):
        await query.answer(_("This request has moved on; nothing changed."), show_alert=True)
        return
    await query.answer(_("Marked as called back."))
    listing = await services.feedback.due_callbacks(query.from_user.id, get_i18n().current_locale)
    if listing is not None and isinstance(query.message, Message):
        await query.message.edit_text(
            listing.text,
            reply_markup=keyboards.called_back(_, listing.entries) if listing.entries else None,
        )
