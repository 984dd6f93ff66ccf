"""What staff type privately after tapping Done, On hold, Reject or Answer on a card."""

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.domain.lifecycle import Event
from bot.services import Services
from bot.ui import keyboards, texts
from bot.ui.callbacks import Pick
from handlers.staff.cards import refusal
from handlers.states import StaffPrompt

router = Router(name="staff-prompts")
router.message.filter(F.chat.type == "private")


async def _finish(
    message: Message,
    state: FSMContext,
    services: Services,
    event: Event,
    note: str,
    photos: list[str] | None = None,
) -> None:
    assert message.chat is not None
    data = await state.get_data()
    await state.clear()
    result = await services.tickets.act(
        message.chat.id,
        int(data["ticket_id"]),
        event,
        note=note[:2000],
        photos=photos or [],
    )
    if result.ok:
        await message.answer(_("{number}: done.").format(number=result.number))
    else:
        await message.answer(refusal(result))


@router.message(StaffPrompt.done_note, F.text)
async def done_note(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    await state.update_data(note=message.text[:2000])
    await state.set_state(StaffPrompt.done_photos)
    await message.answer(
        _("Send after-photos if you have any (up to {limit}), or press “Skip”.").format(
            limit=texts.MAX_PHOTOS
        ),
        reply_markup=keyboards.photo_step(_, have_photos=False),
    )


@router.message(StaffPrompt.done_photos, F.photo)
async def done_photo(message: Message, state: FSMContext) -> None:
    assert message.photo is not None
    data = await state.get_data()
    photos = [*list(data.get("photos", []))[: texts.MAX_PHOTOS - 1], message.photo[-1].file_id]
    group, acknowledged = message.media_group_id, data.get("album")
    await state.update_data(photos=photos, album=group)
    if group is None or group != acknowledged:
        await message.answer(
            _("Photo received. Send more, or press “Done”."),
            reply_markup=keyboards.photo_step(_, True),
        )


@router.callback_query(StaffPrompt.done_photos, Pick.filter(F.field == "photos"))
async def done_photos(query: CallbackQuery, state: FSMContext, services: Services) -> None:
    await query.answer()
    data = await state.get_data()
    if isinstance(query.message, Message):
        await _finish(
            query.message,
            state,
            services,
            Event.DONE,
            data.get("note", ""),
            list(data.get("photos", [])),
        )


@router.message(StaffPrompt.hold_reason, F.text)
async def hold_reason(message: Message, state: FSMContext, services: Services) -> None:
    assert message.text is not None
    await _finish(message, state, services, Event.HOLD, message.text)


@router.message(StaffPrompt.reject_reason, F.text)
async def reject_reason(message: Message, state: FSMContext, services: Services) -> None:
    assert message.text is not None
    await _finish(message, state, services, Event.REJECT, message.text)


@router.message(StaffPrompt.answer_text, F.text)
async def answer_text(message: Message, state: FSMContext, services: Services) -> None:
    assert message.text is not None
    await _finish(message, state, services, Event.ANSWER, message.text)


@router.message(StaffPrompt.done_photos)
async def photo_expected(message: Message) -> None:
    await message.answer(_("Please send a photo, or press the button above."))


@router.message(StaffPrompt.done_note)
@router.message(StaffPrompt.hold_reason)
@router.message(StaffPrompt.reject_reason)
@router.message(StaffPrompt.answer_text)
async def text_expected(message: Message) -> None:
    await message.answer(_("Please send text, or /cancel."))
