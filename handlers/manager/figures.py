"""/stats, /export and /report."""

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import BufferedInputFile, InputMediaPhoto, Message

from bot.services import Services
from bot.services.reports import FileOut
from handlers.manager.access import HTML, answer_parts, locale, manager_of

router = Router(name="manager-figures")


@router.message(Command("stats"))
async def stats(message: Message, command: CommandObject, services: Services) -> None:
    manager = await manager_of(message, services)
    parts = await services.stats.stats(manager.estate_id, command.args or "", locale())
    await answer_parts(message, parts)


@router.message(Command("export"))
async def export(message: Message, command: CommandObject, services: Services) -> None:
    manager = await manager_of(message, services)
    words = (command.args or "").split()
    fmt, rest = (words[0], " ".join(words[1:])) if words else ("", "")
    result = await services.reports.export(manager.estate_id, fmt, rest, locale())
    if isinstance(result, str):
        await message.answer(result, parse_mode=HTML)
        return
    await _send_file(message, result)


@router.message(Command("report"))
async def report(message: Message, command: CommandObject, services: Services) -> None:
    manager = await manager_of(message, services)
    result = await services.reports.report(manager.estate_id, command.args or "", locale())
    if isinstance(result, str):
        await message.answer(result, parse_mode=HTML)
        return
    media = [
        InputMediaPhoto(
            media=BufferedInputFile(chart.png, f"{chart.key}.png"),
            caption=result.caption if index == 0 else None,
            parse_mode=HTML if index == 0 else None,
        )
        for index, chart in enumerate(result.charts)
    ]
    await message.answer_media_group(media)  # type: ignore[arg-type]
    if len(result.summary) > 1:
        await message.answer("\n".join(result.summary), parse_mode=HTML)
    await _send_file(message, result.workbook)


async def _send_file(message: Message, file: FileOut) -> None:
    await message.answer_document(
        BufferedInputFile(file.data, file.filename), caption=file.caption, parse_mode=HTML
    )
