"""Everything else a resident sends: replies relay to the team; the rest gets guidance."""

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import locale_for
from bot.services import Services
from bot.services.updates import Arrival
from bot.ui import keyboards
from handlers.middlewares import sender_info
from handlers.resident.common import show_menu
from handlers.resident.my_requests import relay

router = Router(name="resident-chat")


@router.message()
async def anything(
    message: Message, state: FSMContext, services: Services, arrival: Arrival
) -> None:
    user = message.from_user
    assert user is not None
    info = sender_info(arrival)
    if info.standing == "unknown":
        await services.residents.touch(user.id, locale_for(user.language_code), user.full_name)
    if info.standing in ("unknown", "unverified", "rejected"):
        await message.answer(
            _("Welcome! Please send /start and share your phone number to connect to your flat."),
            reply_markup=keyboards.share_phone(_) if info.standing != "unknown" else None,
        )
        return
    if info.standing == "pending":
        await message.answer(
            _(
                "Your registration is being checked by the management office. We will tell you when it is confirmed."
            )
        )
        return
    reply = message.reply_to_message
    if reply is not None and (message.text or message.photo):
        ticket_id = await services.tickets.ticket_for_reply(message.chat.id, reply.message_id)
        if ticket_id is not None:
            await relay(message, services, ticket_id)
            return
    await show_menu(
        message,
        _("Please use the menu below. To write about a request, reply to a message about it."),
    )
