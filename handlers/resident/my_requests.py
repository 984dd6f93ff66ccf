"""My requests: the list, one request's details, and what a resident can do with it."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.domain.lifecycle import Event
from bot.services import Services
from bot.ui import keyboards
from bot.ui.callbacks import MyPage, ResidentAct
from handlers.resident.common import show_menu
from handlers.states import ResidentReply

router = Router(name="resident-my-requests")


def _locale() -> str:
    return get_i18n().current_locale


async def show_page(
    target: Message, services: Services, page: int, edit: bool, user_id: int | None = None
) -> None:
    uid = user_id if user_id is not None else (target.from_user.id if target.from_user else 0)
    result = await services.tickets.resident_page(uid, page, _locale())
    if result is None or result.total == 0:
        await target.answer(_("You have no requests yet. Press “New request” to file one."))
        return
    text = _("Your requests, newest first (page {page} of {pages}). Tap one for details:").format(
        page=result.page + 1, pages=result.pages
    )
    markup = keyboards.ticket_list(result.entries, result.page, result.pages, _)
    if edit:
        await target.edit_text(text, reply_markup=markup)
    else:
        await target.answer(text, reply_markup=markup)


@router.callback_query(MyPage.filter())
async def page(query: CallbackQuery, callback_data: MyPage, services: Services) -> None:
    await query.answer()
    if isinstance(query.message, Message):
        await show_page(
            query.message, services, callback_data.page, edit=True, user_id=query.from_user.id
        )


@router.callback_query(ResidentAct.filter(F.action == "view"))
async def view(query: CallbackQuery, callback_data: ResidentAct, services: Services) -> None:
    details = await services.tickets.resident_view(
        query.from_user.id, callback_data.ticket_id, _locale()
    )
    if details is None or not isinstance(query.message, Message):
        await query.answer(_("This request is not yours."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_text(
        details.text,
        reply_markup=keyboards.resident_ticket_actions(
            _, details.ticket_id, details.can_comment, details.can_cancel, 0
        ),
    )


@router.callback_query(ResidentAct.filter(F.action == "comment"))
async def comment(
    query: CallbackQuery, callback_data: ResidentAct, state: FSMContext, services: Services
) -> None:
    details = await services.tickets.resident_view(
        query.from_user.id, callback_data.ticket_id, _locale()
    )
    if details is None or not details.can_comment or not isinstance(query.message, Message):
        await query.answer(_("This request is closed; comments are not possible."), show_alert=True)
        return
    await query.answer()
    await state.set_state(ResidentReply.comment)
    await state.update_data(ticket_id=details.ticket_id)
    await query.message.answer(_("Type your comment (or send /cancel):"))


@router.message(ResidentReply.comment, F.text | F.photo)
async def comment_text(message: Message, state: FSMContext, services: Services) -> None:
    assert message.from_user is not None
    data = await state.get_data()
    await state.clear()
    await relay(message, services, int(data["ticket_id"]))


async def relay(message: Message, services: Services, ticket_id: int) -> None:
    """A resident's words (and photos) about one of their open requests go to the team."""
    assert message.from_user is not None
    text = (message.text or message.caption or "")[:2000]
    photos = [message.photo[-1].file_id] if message.photo else []
    result = await services.tickets.comment_from_resident(
        message.from_user.id, ticket_id, text, photos
    )
    if result.ok:
        await show_menu(
            message,
            _("Your message about {number} was passed to the team.").format(number=result.number),
        )
    elif result.reason == "closed":
        await show_menu(
            message,
            _(
                "{number} is already closed. Please file a new request if you still need help."
            ).format(number=result.number),
        )
    else:
        await show_menu(message, _("This request is not yours."))


@router.message(ResidentReply.comment)
async def comment_expected(message: Message) -> None:
    await message.answer(_("Please send text, or /cancel."))


@router.callback_query(ResidentAct.filter(F.action == "cancel"))
async def cancel_request(
    query: CallbackQuery, callback_data: ResidentAct, services: Services
) -> None:
    result = await services.tickets.act(query.from_user.id, callback_data.ticket_id, Event.CANCEL)
    if not result.ok:
        await query.answer(_("This request can no longer be cancelled."), show_alert=True)
        return
    await query.answer(_("Cancelled."))
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(ResidentAct.filter(F.action == "confirm"))
async def confirm(query: CallbackQuery, callback_data: ResidentAct, services: Services) -> None:
    result = await services.tickets.act(query.from_user.id, callback_data.ticket_id, Event.CONFIRM)
    if not result.ok:
        await query.answer(_("This question is already settled."), show_alert=True)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(ResidentAct.filter(F.action == "notfixed"))
async def not_fixed(
    query: CallbackQuery, callback_data: ResidentAct, state: FSMContext, services: Services
) -> None:
    check = await services.tickets.can(query.from_user.id, callback_data.ticket_id, Event.REOPEN)
    if not check.ok or not isinstance(query.message, Message):
        await query.answer(_("This question is already settled."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await state.set_state(ResidentReply.not_fixed)
    await state.update_data(ticket_id=callback_data.ticket_id)
    await query.message.answer(_("What is still wrong? Please describe it:"))


@router.message(ResidentReply.not_fixed, F.text)
async def not_fixed_text(message: Message, state: FSMContext, services: Services) -> None:
    assert message.from_user is not None and message.text is not None
    data = await state.get_data()
    await state.clear()
    result = await services.tickets.act(
        message.from_user.id, int(data["ticket_id"]), Event.REOPEN, note=message.text[:2000]
    )
    if not result.ok:
        await show_menu(message, _("This question is already settled."))


@router.message(ResidentReply.not_fixed)
async def not_fixed_expected(message: Message) -> None:
    await message.answer(_("Please send text, or /cancel."))
