"""/start, phone sharing and flat verification."""

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.i18n import locale_for
from bot.services import Services
from bot.ui import keyboards
from bot.ui.callbacks import Pick
from bot.ui.format import h
from handlers.resident.common import show_menu
from handlers.states import Onboarding

router = Router(name="resident-onboarding")


@router.message(CommandStart())
async def start(
    message: Message, command: CommandObject, state: FSMContext, services: Services
) -> None:
    user = message.from_user
    assert user is not None
    await state.clear()
    if await services.staff.opened_private_chat(user.id, services.tickets):
        await message.answer(
            _("Hello, {name}! Job details for requests you take will arrive here.").format(
                name=h(user.full_name)
            )
        )
        return
    await services.residents.touch(user.id, locale_for(user.language_code), user.full_name)
    if command.args:
        flat = await services.residents.redeem_invitation(user.id, command.args)
        if flat is not None:
            await show_menu(
                message,
                _("✅ You are registered to flat {flat}, {building}. How can we help?").format(
                    flat=h(flat[0]), building=h(flat[1])
                ),
            )
            return
        await message.answer(
            _("This invitation link is not valid any more. Let us check your phone number instead.")
        )
    info = await services.residents.info(user.id)
    if info.standing == "verified":
        await show_menu(
            message,
            _("Welcome back! You are registered to flat {flat}, {building}.").format(
                flat=h(info.flat or ""), building=h(info.building or "")
            ),
        )
        return
    if info.standing == "pending":
        await message.answer(
            _(
                "Your registration is being checked by the management office. We will tell you when it is confirmed."
            )
        )
        return
    await state.set_state(Onboarding.phone)
    await message.answer(
        _(
            "Welcome to the help desk of {estate}! To connect you to your flat, please share your phone number with the button below."
        ).format(estate=h(info.estate_name or "")),
        reply_markup=keyboards.share_phone(_),
    )


@router.message(Onboarding.phone, F.contact)
async def contact(message: Message, state: FSMContext, services: Services) -> None:
    user, shared = message.from_user, message.contact
    assert user is not None and shared is not None
    if shared.user_id != user.id:
        await message.answer(
            _(
                "Please share your own phone number with the button below — contacts of other people are not accepted."
            ),
            reply_markup=keyboards.share_phone(_),
        )
        return
    outcome = await services.residents.share_phone(user.id, shared.phone_number, user.full_name)
    if outcome.verified:
        await state.clear()
        await show_menu(
            message,
            _("✅ You are registered to flat {flat}, {building}. How can we help?").format(
                flat=h(outcome.flat or ""), building=h(outcome.building or "")
            ),
        )
        return
    buildings = await services.residents.buildings(user.id)
    await state.set_state(Onboarding.building)
    await message.answer(_("Thank you."), reply_markup=ReplyKeyboardRemove())
    await message.answer(
        _("We could not find your number in the residents' list. Which building do you live in?"),
        reply_markup=keyboards.choices("building", [(bid, name) for bid, name in buildings]),
    )


@router.message(Onboarding.phone)
async def phone_expected(message: Message) -> None:
    await message.answer(
        _("Please use the “Share my phone number” button below."),
        reply_markup=keyboards.share_phone(_),
    )


@router.callback_query(Onboarding.building, Pick.filter(F.field == "building"))
async def building(query: CallbackQuery, callback_data: Pick, state: FSMContext) -> None:
    if not callback_data.value.isdigit():
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await state.update_data(building_id=int(callback_data.value))
    await state.set_state(Onboarding.flat)
    await query.answer()
    if query.message is not None:
        await query.message.answer(_("Type your flat number:"))


@router.message(Onboarding.building)
async def building_expected(message: Message) -> None:
    await message.answer(_("Please choose your building with the buttons above."))


@router.message(Onboarding.flat, F.text)
async def flat(message: Message, state: FSMContext, services: Services) -> None:
    user = message.from_user
    assert user is not None and message.text is not None
    data = await state.get_data()
    result = await services.residents.request_verification(
        user.id, int(data.get("building_id", 0)), message.text[:32]
    )
    if result == "no_such_flat":
        await message.answer(
            _(
                "There is no flat {flat} in that building. Please type the flat number again:"
            ).format(flat=h(message.text[:32]))
        )
        return
    await state.clear()
    if result == "unknown":
        await message.answer(_("Something went wrong; please send /start to begin again."))
        return
    await message.answer(
        _("Thank you! The management office will check your flat and confirm it soon.")
    )


@router.message(Onboarding.flat)
async def flat_expected(message: Message) -> None:
    await message.answer(_("Please type your flat number as text."))
