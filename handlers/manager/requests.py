"""/overdue and /ticket: requests in full, and what a manager may do with them."""

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.services import Services
from bot.services.console import Manager
from bot.ui import console_texts
from bot.ui.console_callbacks import ConsoleAct
from handlers.manager.access import HTML, answer_parts, locale, manager_of, manager_of_query
from handlers.manager.states import ConsoleReason
from handlers.staff.cards import refusal

router = Router(name="manager-requests")
NOTE_LIMIT = 1000


@router.message(Command("overdue"))
async def overdue(message: Message, services: Services) -> None:
    manager = await manager_of(message, services)
    listing = await services.console.overdue(manager, locale())
    await message.answer(
        listing.text, parse_mode=HTML, reply_markup=console_texts.overdue_markup(_, listing.entries)
    )


@router.message(Command("ticket"))
async def ticket(message: Message, command: CommandObject, services: Services) -> None:
    manager = await manager_of(message, services)
    number = (command.args or "").strip()
    if not number:
        await message.answer(console_texts.ticket_usage(_), parse_mode=HTML)
        return
    ticket_id = await services.console.find_ticket(manager, number)
    if ticket_id is None or not await show(message, manager, ticket_id, services):
        await message.answer(console_texts.no_ticket(_, number), parse_mode=HTML)


async def show(message: Message, manager: Manager, ticket_id: int, services: Services) -> bool:
    view = await services.console.ticket_view(manager, ticket_id, locale())
    if view is None:
        return False
    await answer_parts(
        message, view.parts, console_texts.ticket_markup(_, view.ticket_id, view.actions)
    )
    return True


@router.message(StateFilter(ConsoleReason.text), Command("cancel"))
async def cancel(message: Message, state: FSMContext, services: Services) -> None:
    await manager_of(message, services)
    await state.clear()
    await message.answer(_("Cancelled. Nothing was sent."))


@router.callback_query(ConsoleAct.filter())
async def button(
    query: CallbackQuery, callback_data: ConsoleAct, services: Services, state: FSMContext
) -> None:
    manager, message = await manager_of_query(query, services)
    action, ticket_id = callback_data.action, callback_data.ticket_id
    if action == "view":
        await query.answer()
        if not await show(message, manager, ticket_id, services):
            await message.answer(_("This request no longer exists."))
        return
    if action in ("hold", "close"):
        check = await services.console.check(manager, ticket_id, action)
        if not check.ok:
            await query.answer(refusal(check), show_alert=True)
            return
        await state.set_state(ConsoleReason.text)
        await state.set_data({"ticket_id": ticket_id, "action": action})
        await query.answer()
        await message.answer(
            console_texts.ask_reason(_, action, check.number or ""), parse_mode=HTML
        )
        return
    if action == "reopen":
        result = await services.console.act(manager, ticket_id, action)
        if not result.ok:
            await query.answer(refusal(result), show_alert=True)
            return
        await query.answer(console_texts.done(_, result.number or ""))
        await show(message, manager, ticket_id, services)
        return
    await query.answer(_("This button is out of date."), show_alert=True)


@router.message(StateFilter(ConsoleReason.text), F.text, ~F.text.startswith("/"))
async def reason(message: Message, state: FSMContext, services: Services) -> None:
    manager = await manager_of(message, services)
    data = await state.get_data()
    await state.clear()
    ticket_id, action = int(data.get("ticket_id", 0)), str(data.get("action", ""))
    result = await services.console.act(
        manager, ticket_id, action, note=(message.text or "")[:NOTE_LIMIT]
    )
    if not result.ok:
        await message.answer(refusal(result))
        return
    await message.answer(console_texts.done(_, result.number or ""), parse_mode=HTML)
    await show(message, manager, ticket_id, services)
