"""Department group chats: replies to cards, /bind, and the bot joining or leaving."""

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import ChatMemberUpdated, Message
from aiogram.utils.i18n import gettext as _

from bot.services import Services
from bot.ui.format import h

router = Router(name="staff-groups")
router.message.filter(F.chat.type.in_({"group", "supergroup"}))


@router.message(Command("bind"))
async def bind(message: Message, command: CommandObject, services: Services) -> None:
    user = message.from_user
    if user is None:
        return
    thread_id = message.message_thread_id if message.is_topic_message else None
    outcome, name, known = await services.staff.bind(
        user.id, message.chat.id, thread_id, command.args or "", services.tickets
    )
    if outcome == "not_admin":
        return  # commands in groups from anyone but admins are ignored
    if outcome == "unknown":
        await message.reply(
            _("Unknown department “{code}”. Known: {known}.").format(
                code=h(command.args or ""), known=h(", ".join(known))
            )
        )
        return
    await message.reply(
        _("This chat now receives requests for {department}.").format(department=h(name))
    )


@router.message(F.reply_to_message, F.text)
async def reply_to_card(message: Message, services: Services, bot: Bot) -> None:
    user, reply = message.from_user, message.reply_to_message
    if user is None or reply is None or message.text is None:
        return
    if reply.from_user is None or reply.from_user.id != bot.id:
        return
    result = await services.tickets.reply_from_staff(
        user.id, message.chat.id, reply.message_id, message.text[:3000]
    )
    if result.ok and result.reason == "internal":
        await message.reply(_("📝 Internal note saved to {number}.").format(number=result.number))
    elif not result.ok and result.reason == "closed":
        await message.reply(
            _("{number} is closed; the resident was not sent this.").format(number=result.number)
        )


@router.my_chat_member(F.chat.type.in_({"group", "supergroup"}))
async def membership(update: ChatMemberUpdated, services: Services) -> None:
    """The bot removed from a department group holds its cards; added back, they flow again."""
    status = update.new_chat_member.status
    if status in ("left", "kicked"):
        await services.reachability.group_lost(update.chat.id)
    elif status in ("member", "administrator", "creator"):
        await services.reachability.group_back(update.chat.id)


@router.my_chat_member(F.chat.type == "private")
async def private_membership(update: ChatMemberUpdated, services: Services) -> None:
    """A resident blocking or unblocking the bot."""
    if update.new_chat_member.status == "kicked":
        await services.reachability.resident_blocked(update.chat.id)
    elif update.new_chat_member.status == "member":
        await services.reachability.resident_back(update.chat.id)
