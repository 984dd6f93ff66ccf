"""The new-request dialog: kind, category, place, emergency, description, photos, summary."""

from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.domain.kinds import Hazard, Place, TicketKind
from bot.services import Services
from bot.services.tickets import Draft
from bot.services.updates import Arrival
from bot.ui import keyboards, texts
from bot.ui.callbacks import Pick
from bot.ui.format import h
from handlers.middlewares import sender_info
from handlers.resident.common import show_menu
from handlers.states import EmergencyDetails, NewRequest

router = Router(name="resident-new-request")

FILE_REFUSALS = {
    "not_verified": "not_verified",
    "too_many_open": "too_many_open",
}


async def begin(
    message: Message, state: FSMContext, services: Services, arrival: Arrival
) -> None:
    user = message.from_user
    assert user is not None
    info = sender_info(arrival)
    await state.clear()
    if info.standing != "verified":
        await message.answer(_("Please finish registration first: send /start."))
        return
    await state.set_state(NewRequest.kind)
    await message.answer(_("What would you like to file?"), reply_markup=keyboards.kinds(_))


async def _stale(query: CallbackQuery) -> None:
    await query.answer(_("This button is out of date."), show_alert=True)


def _message(query: CallbackQuery) -> Message | None:
    return query.message if isinstance(query.message, Message) else None


@router.callback_query(NewRequest.kind, Pick.filter(F.field == "kind"))
async def kind(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, services: Services
) -> None:
    if callback_data.value not in {k.value for k in TicketKind}:
        await _stale(query)
        return
    chosen = TicketKind(callback_data.value)
    await state.update_data(kind=chosen.value, photos=[])
    await query.answer()
    message = _message(query)
    if message is None:
        return
    categories = await services.tickets.categories_for(
        query.from_user.id, chosen, await _locale(state, services, query)
    )
    if chosen.is_repair or categories:
        await state.set_state(NewRequest.category)
        await message.answer(
            _("Which category?"),
            reply_markup=keyboards.choices("category", [(c.id, c.label) for c in categories], 1),
        )
        return
    await _ask_description(message, state)


async def _locale(state: FSMContext, services: Services, query: CallbackQuery) -> str:
    # The locale middleware chose the resident's own language for this update.
    return get_i18n().current_locale


@router.callback_query(NewRequest.category, Pick.filter(F.field == "category"))
async def category(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, services: Services
) -> None:
    data = await state.get_data()
    kind = TicketKind(data["kind"])
    options = await services.tickets.categories_for(
        query.from_user.id, kind, await _locale(state, services, query)
    )
    chosen = next((c for c in options if str(c.id) == callback_data.value), None)
    message = _message(query)
    if chosen is None or message is None:
        await _stale(query)
        return
    await state.update_data(category_id=chosen.id, category=chosen.label, hazard=chosen.hazard)
    await query.answer()
    if not kind.is_repair:
        await _ask_description(message, state)
        return
    await state.set_state(NewRequest.place)
    await message.answer(_("Where is the problem?"), reply_markup=keyboards.places(_))


@router.callback_query(NewRequest.place, Pick.filter(F.field == "place"))
async def place(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, services: Services
) -> None:
    message = _message(query)
    if callback_data.value not in {p.value for p in Place} or message is None:
        await _stale(query)
        return
    await state.update_data(place=callback_data.value)
    await query.answer()
    if callback_data.value == Place.COMMON:
        await state.set_state(NewRequest.place_text)
        await message.answer(_("Where exactly? For example: “Block A, 3rd floor corridor”."))
        return
    await _after_place(message, state, services, query.from_user.id)


@router.message(NewRequest.place_text, F.text)
async def place_text(message: Message, state: FSMContext, services: Services) -> None:
    assert message.text is not None and message.from_user is not None
    if len(message.text) > 300:
        await message.answer(_("Please keep it under 300 characters."))
        return
    await state.update_data(place_text=message.text)
    await _after_place(message, state, services, message.from_user.id)


async def _after_place(
    message: Message, state: FSMContext, services: Services, user_id: int
) -> None:
    data = await state.get_data()
    hazard = data.get("hazard")
    if hazard:
        await _register_emergency(message, state, services, user_id, Hazard(hazard))
        return
    await state.set_state(NewRequest.emergency)
    await message.answer(_("Is it an emergency?"), reply_markup=keyboards.emergency_question(_))


async def _register_emergency(
    message: Message, state: FSMContext, services: Services, user_id: int, hazard: Hazard
) -> None:
    """Emergencies are registered before anything else is asked: help is sent at once."""
    data = await state.get_data()
    number = await services.tickets.emergency_number(user_id, hazard)
    await message.answer(texts.safety_advice(_, hazard, number))
    filed = await services.tickets.file(
        user_id, _draft(data, emergency=True, description=data.get("category", ""))
    )
    if not filed.ok:
        await state.clear()
        await show_menu(message, _refusal(filed.reason))
        return
    await state.set_data({"ticket_id": filed.ticket_id, "number": filed.number, "photos": []})
    await state.set_state(EmergencyDetails.description)
    await message.answer(_("If you can, describe what is happening (or send /cancel to skip):"))


@router.callback_query(NewRequest.emergency, Pick.filter(F.field == "emergency"))
async def emergency(query: CallbackQuery, callback_data: Pick, state: FSMContext) -> None:
    message = _message(query)
    if callback_data.value not in ("yes", "no") or message is None:
        await _stale(query)
        return
    await state.update_data(emergency=callback_data.value == "yes")
    await query.answer()
    await _ask_description(message, state)


async def _ask_description(message: Message, state: FSMContext) -> None:
    await state.set_state(NewRequest.description)
    await message.answer(
        _("Describe it in your own words (up to {limit} characters):").format(
            limit=texts.DESCRIPTION_LIMIT
        )
    )


@router.message(NewRequest.description, F.text)
async def description(message: Message, state: FSMContext) -> None:
    assert message.text is not None
    if len(message.text) > texts.DESCRIPTION_LIMIT:
        await message.answer(
            _(
                "That is {count} characters; the limit is {limit}. Please shorten it and send it again."
            ).format(count=len(message.text), limit=texts.DESCRIPTION_LIMIT)
        )
        return
    await state.update_data(description=message.text)
    await state.set_state(NewRequest.photos)
    await message.answer(
        _("Send up to {limit} photos if they help, then press “Done” — or press “Skip”.").format(
            limit=texts.MAX_PHOTOS
        ),
        reply_markup=keyboards.photo_step(_, have_photos=False),
    )


@router.message(NewRequest.photos, F.photo)
@router.message(EmergencyDetails.photos, F.photo)
async def photo(message: Message, state: FSMContext) -> None:
    assert message.photo is not None
    data = await state.get_data()
    photos: list[str] = list(data.get("photos", []))
    if len(photos) >= texts.MAX_PHOTOS:
        await message.answer(
            _("You already have {limit} photos; press “Done”.").format(limit=texts.MAX_PHOTOS),
            reply_markup=keyboards.photo_step(_, have_photos=True),
        )
        return
    photos.append(message.photo[-1].file_id)
    group = message.media_group_id
    acknowledged = data.get("album")
    await state.update_data(photos=photos, album=group)
    if group is not None and group == acknowledged:
        return  # one acknowledgement per album
    await message.answer(
        _("Photo received. Send more, or press “Done”."),
        reply_markup=keyboards.photo_step(_, have_photos=True),
    )


@router.callback_query(NewRequest.photos, Pick.filter(F.field == "photos"))
async def photos_done(query: CallbackQuery, state: FSMContext) -> None:
    message = _message(query)
    if message is None:
        await _stale(query)
        return
    await query.answer()
    data = await state.get_data()
    await state.set_state(NewRequest.confirm)
    await message.answer(_summary(data), reply_markup=keyboards.submit(_))


def _summary(data: dict[str, Any]) -> str:
    kind = TicketKind(data["kind"])
    where = None
    if kind.is_repair:
        where = (
            _("🏠 My flat")
            if data.get("place") != Place.COMMON
            else _("Common area: {place}").format(place=h(data.get("place_text", "")))
        )
    return texts.summary(
        _,
        kind,
        data.get("category"),
        where,
        bool(data.get("emergency")),
        data.get("description", ""),
        len(data.get("photos", [])),
    )


def _draft(data: dict[str, Any], emergency: bool, description: str) -> Draft:
    return Draft(
        kind=TicketKind(data["kind"]),
        description=description,
        category_id=data.get("category_id"),
        place=Place(data.get("place", Place.FLAT)),
        place_text=data.get("place_text"),
        emergency=emergency,
        photos=list(data.get("photos", [])),
    )


def _refusal(reason: str | None) -> str:
    if reason == "too_many_open":
        return _(
            "You have too many open requests. Please wait until some are resolved, or add to an existing one."
        )
    if reason == "not_verified":
        return _("Please finish registration first: send /start.")
    return _("Something went wrong; nothing was registered. Please try again.")


@router.callback_query(NewRequest.confirm, Pick.filter(F.field == "submit"))
async def submit(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, services: Services
) -> None:
    message = _message(query)
    if message is None:
        await _stale(query)
        return
    data = await state.get_data()
    await state.clear()
    await query.answer()
    if callback_data.value != "yes":
        await show_menu(message, _("Cancelled. Nothing was sent."))
        return
    filed = await services.tickets.file(
        query.from_user.id, _draft(data, bool(data.get("emergency")), data.get("description", ""))
    )
    if not filed.ok:
        await show_menu(message, _refusal(filed.reason))
    # the confirmation with the number comes from the outbox, linked to the request


@router.message(EmergencyDetails.description, F.text)
async def emergency_description(message: Message, state: FSMContext, services: Services) -> None:
    assert message.text is not None and message.from_user is not None
    if len(message.text) > texts.DESCRIPTION_LIMIT:
        await message.answer(
            _(
                "That is {count} characters; the limit is {limit}. Please shorten it and send it again."
            ).format(count=len(message.text), limit=texts.DESCRIPTION_LIMIT)
        )
        return
    data = await state.get_data()
    await services.tickets.add_details(
        message.from_user.id, int(data["ticket_id"]), message.text, []
    )
    await state.set_state(EmergencyDetails.photos)
    await message.answer(
        _("Thank you, the team can see it. Send photos if they help, or press “Skip”."),
        reply_markup=keyboards.photo_step(_, have_photos=False),
    )


@router.callback_query(EmergencyDetails.photos, Pick.filter(F.field == "photos"))
async def emergency_photos_done(
    query: CallbackQuery, state: FSMContext, services: Services
) -> None:
    data = await state.get_data()
    await state.clear()
    await query.answer()
    photos = list(data.get("photos", []))
    if photos:
        await services.tickets.add_details(query.from_user.id, int(data["ticket_id"]), "", photos)
    message = _message(query)
    if message is not None:
        await show_menu(message, _("Thank you. Help is on its way; we will keep you posted here."))


# ---- re-prompts: anything else where something specific is expected --------------------
@router.message(NewRequest.kind)
@router.message(NewRequest.category)
@router.message(NewRequest.place)
@router.message(NewRequest.emergency)
@router.message(NewRequest.confirm)
async def buttons_expected(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or send /cancel."))


@router.message(NewRequest.place_text)
@router.message(NewRequest.description)
@router.message(EmergencyDetails.description)
async def text_expected(message: Message) -> None:
    await message.answer(_("Please send text, or /cancel."))


@router.message(NewRequest.photos)
@router.message(EmergencyDetails.photos)
async def photo_expected(message: Message) -> None:
    await message.answer(_("Please send a photo, or press the button above."))
