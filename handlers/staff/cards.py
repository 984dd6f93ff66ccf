"""Taps on department cards. Every tap is checked by the service: who, which ticket, which status."""

from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.lifecycle import Event
from bot.services import Services
from bot.services.tickets import ActResult
from bot.ui.callbacks import StaffAct, VerifyAct
from bot.ui.format import h
from handlers.states import StaffPrompt

router = Router(name="staff-cards")

PROMPTED = {
    Event.DONE: StaffPrompt.done_note,
    Event.HOLD: StaffPrompt.hold_reason,
    Event.REJECT: StaffPrompt.reject_reason,
    Event.ANSWER: StaffPrompt.answer_text,
}


def refusal(result: ActResult) -> str:
    if result.reason == "taken":
        return _("Already taken by {name}.").format(name=result.holder or "—")
    if result.reason == "not_allowed":
        return _("Only the person who took it, a dispatcher or a manager can do that.")
    if result.reason == "not_found":
        return _("This request no longer exists.")
    return _("This request has moved on; nothing changed.")


def prompt_text(event: Event, number: str) -> str:
    texts = {
        Event.DONE: _("Write a short completion note for {number}:"),
        Event.HOLD: _(
            "Why is {number} on hold? You may end with a date to resume, e.g. 2026-12-01."
        ),
        Event.REJECT: _("Why is {number} rejected? The resident will see the reason:"),
        Event.ANSWER: _("Write the answer to {number}; the resident will see it:"),
    }
    return texts[event].format(number=number)


@router.callback_query(StaffAct.filter())
async def card_tap(
    query: CallbackQuery, callback_data: StaffAct, services: Services, bot: Bot, state: FSMContext
) -> None:
    try:
        event = Event(callback_data.event)
    except ValueError:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    user_id = query.from_user.id
    if event in PROMPTED:
        check = await services.tickets.can(user_id, callback_data.ticket_id, event)
        if not check.ok:
            await query.answer(refusal(check), show_alert=True)
            return
        private = FSMContext(
            storage=state.storage,
            key=StorageKey(bot_id=bot.id, chat_id=user_id, user_id=user_id),
        )
        # Waiting for the answer before asking: a reply typed at once must find the prompt.
        before = (await private.get_state(), await private.get_data())
        await private.set_state(PROMPTED[event])
        await private.set_data({"ticket_id": callback_data.ticket_id, "photos": []})
        try:
            await bot.send_message(user_id, prompt_text(event, check.number or ""))
        except (TelegramForbiddenError, TelegramBadRequest):
            await private.set_state(before[0])
            await private.set_data(before[1])
            await query.answer(
                _("Please open a private chat with me and press Start first, then tap again."),
                show_alert=True,
            )
            return
        await query.answer(_("I have written to you privately."))
        return
    result = await services.tickets.act(user_id, callback_data.ticket_id, event)
    if not result.ok:
        await query.answer(refusal(result), show_alert=True)
        return
    await query.answer(_("{number}: done.").format(number=result.number))


@router.callback_query(VerifyAct.filter())
async def verification(query: CallbackQuery, callback_data: VerifyAct, services: Services) -> None:
    outcome = await services.residents.decide(
        query.from_user.id, callback_data.verification_id, callback_data.decision == "approve"
    )
    if outcome == "not_allowed":
        await query.answer(
            _("Only customer service, a dispatcher or a manager can do that."), show_alert=True
        )
        return
    if outcome != "done":
        await query.answer(_("This request has moved on; nothing changed."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        verdict = (
            _("✅ Approved by {name}")
            if callback_data.decision == "approve"
            else _("⛔ Rejected by {name}")
        ).format(name=h(query.from_user.full_name))
        await query.message.edit_text(f"{query.message.html_text}\n\n{verdict}", reply_markup=None)
