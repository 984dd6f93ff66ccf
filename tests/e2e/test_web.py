"""The web role: the webhook with its secret, /healthz, /metrics, and keeping the webhook set."""

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import ensure_webhook, web_app
from bot.emulator.server import FakeTelegram
from tests.e2e.harness import Stack, make_stack

SECRET = "s3cr3t-token_value"


@pytest.fixture
async def served(tg: FakeTelegram, engine: AsyncEngine) -> AsyncIterator[tuple[Stack, str]]:
    runner: web.AppRunner | None = None
    stack = await make_stack(tg, engine, webhook_url="http://127.0.0.1:0", webhook_secret=SECRET)
    try:
        runner = web.AppRunner(web_app(stack.app, with_webhook=True))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}"
        stack.app.settings.webhook_url = base
        yield stack, base
    finally:
        if runner is not None:
            await runner.cleanup()
        await stack.app.bot.session.close()


async def test_updates_arrive_by_webhook_and_a_wrong_secret_gets_401(served: tuple[Stack, str]) -> None:
    stack, base = served
    assert await ensure_webhook(stack.app) is True
    assert stack.tg.webhook.url == f"{base}/telegram" and stack.tg.webhook.secret_token == SECRET
    alice = stack.person("alice")
    assert await stack.tg.deliver_webhook(alice.start()) == 200
    await stack.app.sender.drain()
    assert "share your phone number" in stack.last(alice.id).content

    async with aiohttp.ClientSession() as client:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with client.post(f"{base}/telegram", json=alice.command("help"), headers=headers) as response:
                assert response.status == 401
    assert sum("How to use" in t for t in stack.texts(alice.id)) == 0


async def test_the_webhook_is_registered_again_when_lost(served: tuple[Stack, str]) -> None:
    stack, _base = served
    assert await ensure_webhook(stack.app) is True
    assert await ensure_webhook(stack.app) is False
    await stack.app.bot.delete_webhook()
    assert await ensure_webhook(stack.app) is True
    assert stack.tg.webhook.url.endswith("/telegram")


async def test_health_and_metrics(served: tuple[Stack, str]) -> None:
    stack, base = served
    await ensure_webhook(stack.app)
    alice = stack.person("alice")
    await stack.tg.deliver_webhook(alice.start())
    async with aiohttp.ClientSession() as client:
        async with client.get(f"{base}/healthz") as response:
            assert response.status == 200 and (await response.json()) == {"ok": True}
        async with client.get(f"{base}/metrics") as response:
            body = await response.text()
    assert 'frontdoor_updates_total{type="message"} 1.0' in body
    assert "frontdoor_handler_seconds_count 1.0" in body
    assert "frontdoor_outbox_pending 0.0" in body  # the greeting was a direct answer
    assert "frontdoor_outbox_oldest_seconds 0.0" in body
