"""/staff, /residents, /invite and the managers' /help."""

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from bot.services import Services
from bot.ui import console_texts, keyboards
from handlers.manager.access import HTML, answer_parts, locale, manager_of

router = Router(name="manager-admin")


@router.message(Command("help"))
async def help_(message: Message, services: Services) -> None:
    await manager_of(message, services)
    await message.answer(console_texts.help_text(_), parse_mode=HTML)


@router.message(Command("staff"))
async def staff(message: Message, command: CommandObject, services: Services) -> None:
    manager = await manager_of(message, services)
    words = (command.args or "").split()
    if not words:
        text = await services.console.staff_list(manager, locale())
    elif words[0].lower() == "add":
        text = await services.console.staff_add(manager, words[1:], locale())
    elif words[0].lower() == "remove":
        text = await services.console.staff_remove(manager, words[1:], locale())
    else:
        text = console_texts.staff_usage(_)
    await answer_parts(message, console_texts.pack(text))


@router.message(Command("residents"))
async def residents(message: Message, command: CommandObject, services: Services) -> None:
    manager = await manager_of(message, services)
    words = (command.args or "").split(maxsplit=1)
    if words and words[0].lower() == "pending":
        pending = await services.console.pending(manager, locale())
        if not pending:
            await message.answer(console_texts.no_pending(_), parse_mode=HTML)
        for item in pending:
            await message.answer(
                item.text,
                parse_mode=HTML,
                reply_markup=keyboards.verification(_, item.verification_id),
            )
        return
    if len(words) == 2 and words[0].lower() == "find":
        if not manager.private:
            await message.answer(console_texts.private_only(_), parse_mode=HTML)
            return
        text = await services.console.find_residents(manager, words[1], locale())
        await answer_parts(message, console_texts.pack(text))
        return
    await message.answer(console_texts.residents_usage(_), parse_mode=HTML)


@router.message(Command("invite"))
async def invite(message: Message, command: CommandObject, services: Services, bot: Bot) -> None:
    manager = await manager_of(message, services)
    words = (command.args or "").split()
    if len(words) < 2:
        await message.answer(console_texts.invite_usage(_), parse_mode=HTML)
        return
    building, flat = " ".join(words[:-1]), words[-1]
    target = await services.console.invite_target(manager, building, flat, locale())
    if target.error is not None:
        await message.answer(target.error, parse_mode=HTML)
        return
    me = await bot.me()
    links = await services.console.invite(target, me.username or "")
    files = await services.reports.invitation_images(target, links, flat.lower() == "all", locale())
    for file in files:
        upload = BufferedInputFile(file.data, file.filename)
        if flat.lower() == "all":
            await message.answer_document(upload, caption=file.caption, parse_mode=HTML)
        else:
            await message.answer_photo(upload, caption=file.caption, parse_mode=HTML)
