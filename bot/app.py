"""The composition root: settings in, a running bot out."""

import asyncio
import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.utils.i18n import I18n
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.delivery.pacing import Pacer
from bot.delivery.sender import OutboxSender
from bot.domain.clock import Clock, SystemClock
from bot.heap import freeze_startup_heap
from bot.i18n import Translator, make_i18n
from bot.metrics import Metrics
from bot.services import Services
from bot.services.base import ServiceDeps
from bot.telegram_models import pin_response_models
from bot.web import WEBHOOK_PATH, MeasureUpdates, build_web_app
from handlers import build_dispatcher
from handlers.manager.commands import publish_commands
from handlers.middlewares import DialogWritesAtEnd
from schedules.runner import make_scheduler
from storage.engine import make_engine, make_sessionmaker
from storage.fsm import DatabaseStorage
from storage.models import Outbox
from storage.outbox_repo import queued

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
POLLING_CONCURRENCY = 32


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
    metrics: Metrics

    async def close(self) -> None:
        self.sender.stop()
        await self.bot.session.close()
        await self.engine.dispose()


def make_bot(settings: Settings) -> Bot:
    api = TelegramAPIServer.from_base(settings.bot_api_url)
    pin_response_models()
    return Bot(settings.bot_token, session=AiohttpSession(api=api), default=DefaultBotProperties())


def dialog_storage(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> tuple[BaseStorage, BaseEventIsolation | None]:
    """Dialog state and per-chat ordering: in the database for one process, in Redis for many."""
    if settings.redis_url:
        # Imported here: redis costs memory that one-process deployments never use.
        from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
        keys = DefaultKeyBuilder(prefix=settings.redis_prefix, with_destiny=True)
        return RedisStorage(redis, key_builder=keys), RedisEventIsolation(redis, key_builder=keys)
    return DatabaseStorage(sessions), None


def build_app(
    settings: Settings, clock: Clock | None = None, engine: AsyncEngine | None = None
) -> App:
    engine = engine or make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    i18n = make_i18n()
    services = Services.build(ServiceDeps(sessions, clock, Translator(i18n)))
    bot = make_bot(settings)
    pacer = Pacer(
        settings.send_private_interval,
        settings.send_group_interval,
        settings.send_global_per_second,
    )
    metrics = Metrics()
    sender = OutboxSender(
        bot,
        sessions,
        clock,
        pacer,
        settings.send_max_attempts,
        on_blocked=services.reachability.resident_blocked,
        on_group_lost=services.reachability.group_lost,
        on_result=lambda result: metrics.sends.labels(result).inc(),
        in_flight=settings.send_in_flight,
        render=services.clock.render,
    )
    storage, isolation = dialog_storage(settings, sessions)
    dispatcher = build_dispatcher(
        services,
        storage,
        i18n,
        sender.kick,
        lambda: queued.total,
        isolation=isolation,
        flood_limit=settings.flood_messages,
        flood_window=settings.flood_window,
    )
    if isinstance(storage, DatabaseStorage):
        dispatcher.update.outer_middleware(DialogWritesAtEnd(storage.writes_at_end))
    dispatcher.update.outer_middleware(MeasureUpdates(metrics))
    return App(settings, engine, sessions, clock, i18n, services, bot, dispatcher, sender, metrics)


async def outbox_probe(app: App) -> tuple[int, float]:
    """How many messages wait in the outbox, and how long the oldest due one has waited."""
    async with app.sessions() as session:
        depth, oldest = (
            await session.execute(
                select(func.count(Outbox.id), func.min(Outbox.next_attempt_at)).where(
                    Outbox.status == "pending"
                )
            )
        ).one()
    now = app.clock.now()
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None and oldest <= now else 0.0
    return int(depth), age


async def database_alive(app: App) -> bool:
    try:
        async with app.sessions() as session:
            await session.execute(select(1))
        return True
    except Exception:  # health is a yes/no answer; the log says why
        log.exception("health check: database unreachable")
        return False


async def ensure_webhook(app: App) -> bool:
    """Register the webhook unless Telegram already has it; True if it had to be (re)set."""
    assert app.settings.webhook_url is not None
    url = app.settings.webhook_url.rstrip("/") + WEBHOOK_PATH
    info = await app.bot.get_webhook_info()
    if info.url == url:
        return False
    await app.bot.set_webhook(
        url,
        secret_token=app.settings.webhook_secret,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=False,
    )
    log.info("webhook registered")
    return True


async def _watch_webhook(app: App, every: float = 60.0) -> None:
    while True:
        await asyncio.sleep(every)
        try:
            if await ensure_webhook(app):
                log.warning("webhook was lost and has been registered again")
        except Exception:
            log.exception("webhook check failed")


def web_app(app: App, with_webhook: bool) -> web.Application:
    handler = None
    if with_webhook:
        handler = SimpleRequestHandler(
            app.dispatcher,
            app.bot,
            secret_token=app.settings.webhook_secret,
            handle_in_background=False,
        )
    return build_web_app(
        handler, app.metrics, lambda: outbox_probe(app), lambda: database_alive(app)
    )


async def run(app: App, role: str = "all") -> None:
    """``all``: everything in one process; ``web``: receive updates (any number of replicas);
    ``worker``: the scheduler and the outbox sender."""
    freeze_startup_heap()
    background: list[asyncio.Task[None]] = []
    scheduler = None
    if role in ("all", "worker"):
        background.append(asyncio.create_task(app.sender.run_forever()))
        scheduler = make_scheduler(
            app.services, await app.services.clock.tick_seconds(), app.sender.kick
        )
        scheduler.start()
        await publish_commands(app.bot, app.services)  # menus per audience (managers' console)
    webhook = role in ("all", "web") and app.settings.webhook_url is not None
    runner = web.AppRunner(web_app(app, with_webhook=webhook))
    try:
        await runner.setup()
        await web.TCPSite(runner, app.settings.web_host, app.settings.web_port).start()
        if webhook:
            await ensure_webhook(app)
            background.append(asyncio.create_task(_watch_webhook(app)))
            await asyncio.Event().wait()
        elif role == "all":
            await app.bot.delete_webhook(drop_pending_updates=False)
            await app.dispatcher.start_polling(
                app.bot,
                allowed_updates=ALLOWED_UPDATES,
                handle_signals=True,
                # Updates beyond this wait at Telegram rather than as tasks in our memory
                # competing for the database (under overload, goodput collapsed without it).
                tasks_concurrency_limit=POLLING_CONCURRENCY,
            )
        elif role == "web":
            raise RuntimeError("the web role needs WEBHOOK_URL")
        else:
            await asyncio.Event().wait()
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        app.sender.stop()
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        await runner.cleanup()
        await app.close()
