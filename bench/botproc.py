"""A bot under benchmark, in a process of its own (so its CPU, latency and memory are its own).

    python -m bench.botproc frontdoor   --api URL --mode polling|webhook --port N --notify PORT --db URL [--redis URL]
    python -m bench.botproc aiogram-echo --api URL --mode polling|webhook --port N --notify PORT
    python -m bench.botproc aiogram-once --api URL --mode polling|webhook --port N --notify PORT --db URL
    python -m bench.botproc ptb-echo    --api URL --mode polling|webhook --port N --notify PORT

Every bot reports each handled update to the driver as one UDP datagram on 127.0.0.1:PORT:
``"<update_id> <t_in> <t_out>"`` (time.monotonic(), the same clock in every process of the
machine): ``t_in`` when the update reached the dispatcher, ``t_out`` when its handling (every
middleware, the handler and the handler's Bot API calls) finished.

Frontdoor runs exactly as ``frontdoor run`` does (``bot.app.run`` with role "all": polling or the
webhook, the outbox sender, the scheduler, /healthz and /metrics, INFO logging), except that the
clock starts at a working-day morning (see ``bench.common.ShiftedClock``) and the outbox pacing
is off (the fake server's flood control is off for this part too).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import TOKEN, WEBHOOK_SECRET, ShiftedClock  # noqa: E402

ALLOWED = ["message", "callback_query", "my_chat_member"]
_KEEP: list[asyncio.Task[None]] = []


class Notifier:
    def __init__(self, port: int) -> None:
        self.address = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setblocking(False)

    def done(self, update_id: int, started: float) -> None:
        try:
            self.sock.sendto(f"{update_id} {started:.6f} {time.monotonic():.6f}".encode(), self.address)
        except OSError:
            pass


def wrap_aiogram(dispatcher: Any, notifier: Notifier) -> None:
    """Time ``Dispatcher.feed_update``: polling (``_process_update``) and the webhook
    (``_feed_webhook_update``) both go through it, outer middlewares included."""
    original = dispatcher.feed_update

    async def feed_update(bot: Any, update: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return await original(bot, update, **kwargs)
        finally:
            notifier.done(update.update_id, started)

    dispatcher.feed_update = feed_update


async def _arrival_record(url: str) -> Any:
    """``aiogram-once``: the echo bot plus what exactly-once costs Frontdoor on every update,
    before any handler: its own ``UpdateLog.arrive`` (one transaction recording the update id and
    reading who sent it), on its own engine and schema. The floor of a bot on this stack that
    does not answer a redelivered update twice."""
    from aiogram.types import Update

    from bot.domain.clock import SystemClock
    from bot.i18n import Translator, make_i18n
    from bot.services.base import ServiceDeps
    from bot.services.updates import UpdateLog
    from storage.engine import make_engine, make_sessionmaker

    log = UpdateLog(ServiceDeps(make_sessionmaker(make_engine(url)), SystemClock(), Translator(make_i18n())))

    async def record(handler: Any, update: Update, data: dict[str, Any]) -> Any:
        user = data.get("event_from_user")
        chat = data.get("event_chat")
        arrival = await log.arrive(update.update_id, user.id if user else None,
                                   chat.id if chat else None, chat is None or chat.type == "private")
        return None if arrival.duplicate else await handler(update, data)

    return record


def logging_setup() -> None:
    # As ``frontdoor run`` does (LOG_LEVEL=INFO by default); stderr goes to a file.
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# ---- Frontdoor -----------------------------------------------------------------------------
async def frontdoor(args: argparse.Namespace) -> None:
    from bot.app import build_app, run
    from bot.config import Settings

    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "bot_api_url": args.api,
        "database_url": args.db,
        "web_host": "127.0.0.1",
        "web_port": args.port,
        "send_private_interval": 0.0,
        "send_group_interval": 0.0,
        "send_global_per_second": 0.0,
    }
    if args.mode == "webhook":
        values["webhook_url"] = f"http://127.0.0.1:{args.port}"
        values["webhook_secret"] = WEBHOOK_SECRET
    if args.redis:
        values["redis_url"] = args.redis
        values["redis_prefix"] = f"fdbench{args.port}"
    settings = Settings(_env_file=None, **values)
    engine = _inline_sqlite_engine(args.db) if "sqlite-inline" in args.experiment else None
    app = build_app(settings, clock=ShiftedClock(), engine=engine)
    if "sql-timing" in args.experiment:
        _time_statements(app.engine)
    wrap_aiogram(app.dispatcher, Notifier(args.notify))
    if "loop-lag" in args.experiment:
        _watch_loop(debug="slow-callbacks" in args.experiment)
    await run(app, "all")


def _watch_loop(debug: bool) -> None:
    """Experiment ``loop-lag``: log every stall of the event loop over 20 ms, every full
    collection and every scheduler tick with its duration, to tell where long handling times come
    from. With ``slow-callbacks`` as well, asyncio's debug mode names the task of each slow step
    (and costs CPU of its own)."""
    from schedules import jobs

    log = logging.getLogger("bench.loop")
    original = jobs.tick

    async def timed_tick(services: Any) -> Any:
        started = time.monotonic()
        report = await original(services)
        log.warning("tick at %.1f: %.1f ms, %s", started * 1000 % 1e6,
                    (time.monotonic() - started) * 1000, report.counts)
        return report

    jobs.tick = timed_tick  # type: ignore[assignment]

    async def watch() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.002)
            lag = time.monotonic() - before - 0.002
            if lag > 0.02:
                log.warning("stall at %.1f: %.1f ms", before * 1000 % 1e6, lag * 1000)

    loop = asyncio.get_event_loop()
    _KEEP.append(loop.create_task(watch()))  # a task nothing refers to may be collected
    if debug:
        loop.set_debug(True)
        loop.slow_callback_duration = 0.04

    collecting: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["t"] = time.monotonic()
        elif info["generation"] == 2 or time.monotonic() - collecting["t"] > 0.01:
            log.warning("gc gen %d at %.1f: %.1f ms", info["generation"],
                        collecting["t"] * 1000 % 1e6, (time.monotonic() - collecting["t"]) * 1000)

    gc.callbacks.append(on_gc)


def _inline_sqlite_engine(url: str) -> Any:
    """Experiment ``sqlite-inline``: SQLite statements run on the event loop's thread instead of
    a round trip to aiosqlite's worker thread each (the loop blocks while SQLite works)."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.engine import _tune_sqlite

    engine = create_async_engine(
        url, connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=1, max_overflow=0, pool_timeout=120,
    )
    _tune_sqlite(engine)

    async def inline(function: Any, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _inline(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection._connection._execute = inline

    return engine


def _time_statements(engine: Any) -> None:
    """Experiment ``sql-timing``: total time per SQL statement, written to SQL_TIMING.txt."""
    from sqlalchemy import event

    totals: dict[str, list[float]] = {}
    out = Path("SQL_TIMING.txt")

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("t0", []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        spent = time.perf_counter() - conn.info["t0"].pop()
        entry = totals.setdefault(" ".join(statement.split())[:300], [0, 0.0])
        entry[0] += 1
        entry[1] += spent

    async def dump() -> None:
        while True:
            await asyncio.sleep(2)
            top = sorted(totals.items(), key=lambda kv: -kv[1][1])[:25]
            out.write_text("\n".join(f"{v[1]*1000:9.1f} ms {v[0]:6d}x  {k}" for k, v in top))

    asyncio.get_event_loop().create_task(dump())


# ---- aiogram echo --------------------------------------------------------------------------
async def aiogram_echo(args: argparse.Namespace) -> None:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    if args.bot == "aiogram-once":
        dp.update.outer_middleware(await _arrival_record(args.db))

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(args.api)))
    wrap_aiogram(dp, Notifier(args.notify))
    if args.mode == "polling":
        await bot.delete_webhook()
        await dp.start_polling(bot, allowed_updates=ALLOWED)
        return
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler
    from aiohttp import web

    app = web.Application()
    SimpleRequestHandler(dp, bot, secret_token=WEBHOOK_SECRET, handle_in_background=False).register(
        app, path="/telegram"
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", args.port).start()
    await bot.set_webhook(
        f"http://127.0.0.1:{args.port}/telegram", secret_token=WEBHOOK_SECRET, allowed_updates=ALLOWED
    )
    await asyncio.Event().wait()


# ---- python-telegram-bot echo ----------------------------------------------------------------
def ptb_echo(args: argparse.Namespace) -> None:
    from telegram import Update
    from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

    notifier = Notifier(args.notify)

    class TimedApplication(Application):  # type: ignore[type-arg]
        async def process_update(self, update: object) -> None:
            started = time.monotonic()
            try:
                await super().process_update(update)
            finally:
                if isinstance(update, Update):
                    notifier.done(update.update_id, started)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.message is not None
        await update.effective_chat.send_message(update.message.text or "…")

    application = (
        ApplicationBuilder()
        .application_class(TimedApplication)
        .token(TOKEN)
        .base_url(f"{args.api}/bot")
        .base_file_url(f"{args.api}/file/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.ALL, echo))
    if args.mode == "polling":
        application.run_polling(allowed_updates=ALLOWED, poll_interval=0.0, timeout=10)
    else:
        application.run_webhook(
            listen="127.0.0.1",
            port=args.port,
            url_path="telegram",
            secret_token=WEBHOOK_SECRET,
            webhook_url=f"http://127.0.0.1:{args.port}/telegram",
            allowed_updates=ALLOWED,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bot", choices=["frontdoor", "aiogram-echo", "aiogram-once", "ptb-echo"])
    parser.add_argument("--api", required=True)
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--notify", type=int, required=True)
    parser.add_argument("--db")
    parser.add_argument("--redis")
    parser.add_argument("--experiment", action="append", default=[],
                        help="diagnostics: loop-lag, slow-callbacks (with loop-lag), sql-timing; "
                        "sqlite-inline is an earlier fix, now in the bot")
    args = parser.parse_args()
    logging_setup()
    # BENCH_CPROFILE=file: a deterministic profile of the whole run, written when the bot stops
    # (py-spy cuts stacks at SQLAlchemy's greenlets, so its split by caller is incomplete).
    profile_to = os.environ.get("BENCH_CPROFILE")
    profiler = cProfile.Profile() if profile_to else None
    if profiler is not None:
        profiler.enable()
    try:
        if args.bot == "frontdoor":
            asyncio.run(frontdoor(args))
        elif args.bot in ("aiogram-echo", "aiogram-once"):
            asyncio.run(aiogram_echo(args))
        else:
            ptb_echo(args)
    except KeyboardInterrupt:  # the benchmark stops bots with SIGINT
        pass
    finally:
        if profiler is not None and profile_to:
            profiler.disable()
            profiler.dump_stats(profile_to)


if __name__ == "__main__":
    main()
