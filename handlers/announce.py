"""/announce for managers (a guided dialog) and /notices for residents."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.services import Services
from bot.services.announcements import Draft
from bot.ui import keyboards
from bot.ui.callbacks import Pick
from bot.ui.format import h
from handlers.states import Announce

router = Router(name="announce")
router.message.filter(F.chat.type == "private")


def _draft(data: dict[str, Any]) -> Draft:
    send_at = datetime.fromisoformat(data["send_at"]) if data.get("send_at") else None
    return Draft(
        audience=data.get("audience", "all"),
        building_ids=list(data.get("buildings", [])),
        flats=list(data.get("flats", [])),
        text=data.get("text", ""),
        photo=data.get("photo"),
        urgent=bool(data.get("urgent")),
        send_at=send_at,
    )


@router.message(Command("announce"))
async def start(message: Message, state: FSMContext, services: Services) -> None:
    assert message.from_user is not None
    if not await services.announcements.can_announce(message.from_user.id):
        raise SkipHandler  # answered like any unknown command
    await state.clear()
    await state.set_state(Announce.audience)
    await message.answer(
        _("📣 Who should receive the announcement?"),
        reply_markup=keyboards.choices(
            "ann_aud",
            [
                ("all", _("All residents")),
                ("buildings", _("Chosen buildings")),
                ("flats", _("Chosen flats")),
            ],
            1,
        ),
    )


@router.callback_query(Announce.audience, Pick.filter(F.field == "ann_aud"))
async def audience(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, services: Services
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    await state.update_data(audience=callback_data.value, buildings=[], flats=[])
    if callback_data.value == "buildings":
        await state.set_state(Announce.buildings)
        options = await services.announcements.buildings(query.from_user.id)
        await query.message.answer(
            _("Tap the buildings, then “Done”."),
            reply_markup=keyboards.choices("ann_bld", [*options, ("done", _("✅ Done"))], 2),
        )
    elif callback_data.value == "flats":
        await state.set_state(Announce.flats)
        await query.message.answer(
            _("Type the flats as building-flat, separated by commas, e.g. A-101, B-5:")
        )
    else:
        await _ask_text(query.message, state)


@router.callback_query(Announce.buildings, Pick.filter(F.field == "ann_bld"))
async def building(query: CallbackQuery, callback_data: Pick, state: FSMContext) -> None:
    data = await state.get_data()
    chosen: list[int] = list(data.get("buildings", []))
    if callback_data.value == "done":
        await query.answer()
        if chosen and isinstance(query.message, Message):
            await _ask_text(query.message, state)
        return
    if callback_data.value.isdigit():
        value = int(callback_data.value)
        chosen = [b for b in chosen if b != value] if value in chosen else [*chosen, value]
        await state.update_data(buildings=chosen)
    await query.answer(_("Chosen: {count}").format(count=len(chosen)))


@router.message(Announce.flats, F.text)
async def flats(message: Message, state: FSMContext, services: Services) -> None:
    assert message.from_user is not None and message.text is not None
    known, unknown = await services.announcements.resolve_flats(message.from_user.id, message.text)
    if unknown or not known:
        await message.answer(
            _("Unknown flats: {flats}. Please type them again.").format(
                flats=h(", ".join(unknown) or "—")
            )
        )
        return
    await state.update_data(flats=known)
    await _ask_text(message, state)


async def _ask_text(message: Message, state: FSMContext) -> None:
    await state.set_state(Announce.text)
    await message.answer(_("Send the text of the announcement (a photo with a caption works too):"))


@router.message(Announce.text, F.text | F.photo)
async def text(message: Message, state: FSMContext) -> None:
    body = (message.text or message.caption or "").strip()
    if not body or len(body) > 900:
        await message.answer(_("Please send a text of 1 to 900 characters."))
        return
    await state.update_data(text=body, photo=message.photo[-1].file_id if message.photo else None)
    await state.set_state(Announce.urgency)
    await message.answer(
        _("Urgent (sent at once, even in quiet hours) or routine (respects quiet hours)?"),
        reply_markup=keyboards.choices(
            "ann_urg", [("urgent", _("🚨 Urgent")), ("routine", _("Routine"))]
        ),
    )


@router.callback_query(Announce.urgency, Pick.filter(F.field == "ann_urg"))
async def urgency(query: CallbackQuery, callback_data: Pick, state: FSMContext) -> None:
    await query.answer()
    await state.update_data(urgent=callback_data.value == "urgent")
    await state.set_state(Announce.when)
    if isinstance(query.message, Message):
        await query.message.answer(
            _("Send it now or at a set time?"),
            reply_markup=keyboards.choices(
                "ann_when", [("now", _("Now")), ("later", _("At a set time"))]
            ),
        )


@router.callback_query(Announce.when, Pick.filter(F.field == "ann_when"))
async def when(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, services: Services
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.value == "later":
        await state.set_state(Announce.when_time)
        await query.message.answer(_("Type the date and time, estate time: YYYY-MM-DD HH:MM"))
        return
    await _preview(query.message, state, services, query.from_user.id)


@router.message(Announce.when_time, F.text)
async def when_time(message: Message, state: FSMContext, services: Services) -> None:
    assert message.from_user is not None and message.text is not None
    tz = await services.announcements.timezone(message.from_user.id)
    try:
        moment = datetime.strptime(message.text.strip(), "%Y-%m-%d %H:%M").replace(
            tzinfo=ZoneInfo(tz)
        )
    except ValueError:
        await message.answer(_("Please type it as YYYY-MM-DD HH:MM."))
        return
    await state.update_data(send_at=moment.isoformat())
    await _preview(message, state, services, message.from_user.id)


async def _preview(message: Message, state: FSMContext, services: Services, user_id: int) -> None:
    data = await state.get_data()
    count = await services.announcements.count(user_id, _draft(data))
    await state.set_state(Announce.preview)
    kind = _("🚨 Urgent") if data.get("urgent") else _("Routine")
    await message.answer(
        _("<b>Preview</b> ({kind}, recipients: {count}):").format(kind=kind, count=count)
        + "\n\n"
        + h(data.get("text", "")),
        reply_markup=keyboards.choices(
            "ann_go", [("send", _("📣 Send")), ("cancel", _("✖️ Cancel"))]
        ),
    )


@router.callback_query(Announce.preview, Pick.filter(F.field == "ann_go"))
async def send(
    query: CallbackQuery, callback_data: Pick, state: FSMContext, services: Services
) -> None:
    data = await state.get_data()
    await state.clear()
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.value != "send":
        await query.message.answer(_("Cancelled. Nothing was sent."))
        return
    queued = await services.announcements.queue(
        query.from_user.id, query.message.chat.id, _draft(data)
    )
    if not queued.ok:
        await query.message.answer(_("Only a manager can do that."))
        return
    await query.message.answer(
        _("Queued; recipients: {count}. You will get a delivery report when it is done.").format(
            count=queued.recipients
        )
    )


@router.message(Announce.audience)
@router.message(Announce.buildings)
@router.message(Announce.urgency)
@router.message(Announce.when)
@router.message(Announce.preview)
async def buttons_expected(message: Message) -> None:
    await message.answer(_("Please choose with the buttons above, or send /cancel."))


@router.message(Command("notices"))
async def notices(message: Message, services: Services) -> None:
    assert message.from_user is not None
    await message.answer(
        await services.announcements.recent_for(message.from_user.id, get_i18n().current_locale)
    )
