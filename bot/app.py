"""The composition root: settings in, a running bot out."""

import asyncio
import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.utils.i18n import I18n
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery.pacing import Pacer
from bot.delivery.sender import OutboxSender
from bot.domain.clock import Clock, SystemClock
from bot.i18n import Translator, make_i18n
from bot.services import Services
from bot.services.base import ServiceDeps
from handlers import build_dispatcher
from schedules.runner import make_scheduler
from storage.engine import make_engine, make_sessionmaker
from storage.fsm import DatabaseStorage

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    i18n: I18n
    services: Services
    bot: Bot
    dispatcher: Dispatcher
    sender: OutboxSender

    async def close(self) -> None:
        self.sender.stop()
        await self.bot.session.close()
        await self.engine.dispose()


def make_bot(settings: Settings) -> Bot:
    api = TelegramAPIServer.from_base(settings.bot_api_url)
    return Bot(settings.bot_token, session=AiohttpSession(api=api), default=DefaultBotProperties())


def build_app(settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None) -> App:
    engine = engine or make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    i18n = make_i18n()
    services = Services.build(ServiceDeps(sessions, clock, Translator(i18n)))
    bot = make_bot(settings)
    pacer = Pacer(settings.send_private_interval, settings.send_group_interval, settings.send_global_per_second)
    sender = OutboxSender(bot, sessions, clock, pacer, settings.send_max_attempts)
    dispatcher = build_dispatcher(services, DatabaseStorage(sessions), i18n, sender.kick)
    return App(settings, engine, sessions, clock, i18n, services, bot, dispatcher, sender)


async def run_polling(app: App) -> None:
    sender_task = asyncio.create_task(app.sender.run_forever())
    tick = await app.services.clock.tick_seconds()
    scheduler = make_scheduler(app.services, tick, app.sender.kick)
    scheduler.start()
    try:
        await app.bot.delete_webhook(drop_pending_updates=False)
        await app.dispatcher.start_polling(app.bot, allowed_updates=ALLOWED_UPDATES, handle_signals=True)
    finally:
        scheduler.shutdown(wait=False)
        app.sender.stop()
        await sender_task
        await app.close()
