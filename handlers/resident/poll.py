"""The satisfaction poll: stars, three quick questions, an optional comment."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services import Services
from bot.ui import clock_texts, keyboards
from bot.ui.callbacks import PollAnswer
from handlers.resident.common import show_menu
from handlers.states import PollComment

router = Router(name="resident-poll")


@router.callback_query(PollAnswer.filter(F.question == "comment"))
async def skip_comment(
    query: CallbackQuery, callback_data: PollAnswer, state: FSMContext, services: Services
) -> None:
    step = await services.feedback.comment(query.from_user.id, callback_data.poll_id, None)
    await state.clear()
    if not step.ok or not isinstance(query.message, Message):
        await query.answer(_("This question is already settled."), show_alert=True)
        return
    await query.answer()
    await query.message.edit_text(clock_texts.poll_thanks(_), reply_markup=None)


@router.callback_query(PollAnswer.filter())
async def score(
    query: CallbackQuery, callback_data: PollAnswer, state: FSMContext, services: Services
) -> None:
    step = await services.feedback.answer(
        query.from_user.id, callback_data.poll_id, callback_data.question, callback_data.score
    )
    if not step.ok or step.next_question is None or not isinstance(query.message, Message):
        await query.answer(_("This question is already settled."), show_alert=True)
        return
    await query.answer()
    if step.next_question == "comment":
        await state.set_state(PollComment.text)
        await state.update_data(poll_id=step.poll_id)
    await query.message.edit_text(
        clock_texts.poll_question(_, step.number, step.next_question),
        reply_markup=keyboards.poll_markup(_, step.poll_id, step.next_question),
    )


@router.message(PollComment.text, F.text)
async def comment(message: Message, state: FSMContext, services: Services) -> None:
    assert message.from_user is not None and message.text is not None
    data = await state.get_data()
    await state.clear()
    step = await services.feedback.comment(message.from_user.id, int(data["poll_id"]), message.text)
    await show_menu(
        message, clock_texts.poll_thanks(_) if step.ok else _("This question is already settled.")
    )


@router.message(PollComment.text)
async def comment_expected(message: Message) -> None:
    await message.answer(_("Please send text, or /cancel."))
