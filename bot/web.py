"""The web role: Telegram's webhook (secret-checked), /healthz and /metrics."""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.metrics import Metrics

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram"
Probe = Callable[[], Awaitable[tuple[int, float]]]


class MeasureUpdates:
    """An outer middleware counting updates and timing their handling."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        started = time.perf_counter()
        try:
            return await handler(event, data)
        finally:
            kind = event.event_type if isinstance(event, Update) else type(event).__name__
            self.metrics.updates.labels(kind).inc()
            self.metrics.latency.observe(time.perf_counter() - started)


def build_web_app(
    handler: SimpleRequestHandler | None,
    metrics: Metrics,
    outbox_probe: Probe,
    health: Callable[[], Awaitable[bool]],
) -> web.Application:
    app = web.Application()

    async def healthz(_: web.Request) -> web.Response:
        ok = await health()
        return web.json_response({"ok": ok}, status=200 if ok else 503)

    async def metrics_view(_: web.Request) -> web.Response:
        depth, age = await outbox_probe()
        metrics.outbox_depth.set(depth)
        metrics.outbox_age.set(age)
        return web.Response(body=metrics.render(), content_type="text/plain")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_view)
    if handler is not None:
        handler.register(app, path=WEBHOOK_PATH)
    return app
