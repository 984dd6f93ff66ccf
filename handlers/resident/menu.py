"""The main menu, its commands, /cancel and /help. Registered first: menu buttons work in any step."""

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services import Services
from bot.services.updates import Arrival
from bot.ui import keyboards
from bot.ui.callbacks import Pick
from bot.ui.keyboards import LANGUAGE_NAMES
from handlers.filters import MenuButton
from handlers.resident import my_requests, new_request
from handlers.resident.common import help_text, show_menu

router = Router(name="resident-menu")


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    had_dialog = await state.get_state() is not None
    await state.clear()
    if had_dialog:
        await show_menu(message, _("Cancelled. Nothing was sent."))
    else:
        await show_menu(message, _("There is nothing to cancel."))


@router.message(Command("help"))
@router.message(MenuButton("help"))
async def help_(message: Message, state: FSMContext) -> None:
    await state.clear()
    await show_menu(message, help_text())


@router.message(Command("language"))
@router.message(MenuButton("language"))
async def language(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Choose your language:"), reply_markup=keyboards.languages())


@router.callback_query(Pick.filter(F.field == "lang"))
async def language_chosen(query: CallbackQuery, callback_data: Pick, services: Services) -> None:
    if callback_data.value not in LANGUAGE_NAMES:
        await query.answer(_("This button is out of date."), show_alert=True)
        return
    await services.residents.set_language(query.from_user.id, callback_data.value)
    tr = services.deps.translator.for_locale(callback_data.value)
    await query.answer()
    if query.message is not None:
        await query.message.answer(
            tr("Language set: {language}.").format(language=LANGUAGE_NAMES[callback_data.value]),
            reply_markup=keyboards.main_menu(tr),
        )


@router.message(Command("new"))
@router.message(MenuButton("new"))
async def new(
    message: Message, state: FSMContext, services: Services, arrival: Arrival
) -> None:
    await new_request.begin(message, state, services, arrival)


@router.message(Command("my"))
@router.message(MenuButton("my"))
async def my(message: Message, state: FSMContext, services: Services) -> None:
    await state.clear()
    await my_requests.show_page(message, services, 0, edit=False)


@router.message(Command("forget_me"))
async def forget_me(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(
        _(
            "This erases your name, phone number and flat from Frontdoor. Your past requests stay, "
            "without your name, for the estate's statistics. Continue?"
        ),
        reply_markup=keyboards.choices(
            "forget", [("yes", _("🗑 Erase my data")), ("no", _("✖️ Cancel"))]
        ),
    )


@router.callback_query(Pick.filter(F.field == "forget"))
async def forget_confirmed(
    query: CallbackQuery, callback_data: Pick, services: Services, state: FSMContext
) -> None:
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if callback_data.value != "yes":
        await query.message.edit_text(_("Nothing was erased."), reply_markup=None)
        return
    await services.residents.forget(query.from_user.id)
    await state.clear()  # the dialog storage may remember what was just erased
    await query.message.edit_text(
        _("Your personal data is erased. Send /start if you ever want to use the help desk again."),
        reply_markup=None,
    )
