"""Two web processes and two workers against one PostgreSQL database and Redis, fed one stream of
updates by webhook through a round-robin load balancer: nothing handled twice, nothing sent
twice, no escalation doubled, and dialogs continue across processes.

Separate processes cannot share the tests' fake clock, so this test runs on real time with
deadlines of a few seconds.
"""

import asyncio
import itertools
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from bot.emulator.server import FakeTelegram
from bot.estate import parse_estate
from storage.engine import make_engine
from storage.migrate import upgrade_engine
from tests.conftest import IN_CI, PG_URL
from tests.e2e.harness import ESTATE, MANAGERS, PLUMBING, REGISTRY, STAFF

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "scale-out-secret"
FAST = ESTATE.read_text().replace(
    "[[buildings]]",
    '[standards]\nrepair_emergency = { claim = "4s", on_site = "600s", resolve = "900s" }\n'
    'repair_simple = { claim = "4s", resolve = "900s" }\n\n[clock]\ntick = "1s"\n\n[[buildings]]',
    1,
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _require_services() -> None:
    for url, port in ((PG_URL, 5432), (REDIS_URL, 6379)):
        host = "127.0.0.1"
        try:
            with socket.create_connection((host, port), 1):
                pass
        except OSError:
            if IN_CI:
                pytest.fail(f"{url} is required on CI")
            pytest.skip(f"{url} not reachable; runs on CI")


@pytest.fixture
async def database() -> AsyncIterator[str]:
    _require_services()
    name = f"fd_scale_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


class RoundRobin:
    """A load balancer in front of the web processes: each request goes to the next one."""

    def __init__(self, targets: list[str]) -> None:
        self.targets = itertools.cycle(targets)
        self.runner: web.AppRunner | None = None
        self.port = _free_port()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/telegram", self.forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return f"http://127.0.0.1:{self.port}"

    async def forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith(("x-telegram", "content-type"))}
        async with aiohttp.ClientSession() as client:
            async with client.post(next(self.targets) + "/telegram", data=body, headers=headers) as response:
                return web.Response(status=response.status, body=await response.read(), headers={"Content-Type": response.headers.get("Content-Type", "application/json")})

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def _healthy(port: int, deadline: float) -> None:
    async with aiohttp.ClientSession() as client:
        while time.monotonic() < deadline:
            try:
                async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"process on port {port} never became healthy")


async def _until(condition, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.2)


async def test_two_web_processes_and_two_workers_share_the_work_exactly_once(database: str, tmp_path: Path) -> None:
    from bot.domain.clock import SystemClock
    from bot.i18n import Translator, make_i18n
    from bot.services.base import ServiceDeps
    from bot.services.estate_apply import EstateApplier
    from storage.engine import make_sessionmaker

    engine = make_engine(database)
    await upgrade_engine(engine)
    await EstateApplier(ServiceDeps(make_sessionmaker(engine), SystemClock(), Translator(make_i18n()))).apply(
        parse_estate(FAST, str(ESTATE), ESTATE.parent)
    )
    await engine.dispose()

    processes: list[subprocess.Popen[bytes]] = []
    async with FakeTelegram() as tg:
        for chat_id in (PLUMBING, -1002, -1003, MANAGERS):
            tg.group(chat_id)
        for uid, name in STAFF.values():
            tg.person(uid, name)
        web_ports = [_free_port(), _free_port()]
        balancer = RoundRobin([f"http://127.0.0.1:{port}" for port in web_ports])
        public = await balancer.start()
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("ESTATE_FILE",)},
            "PYTHONPATH": str(ROOT), "BOT_TOKEN": tg.token, "BOT_API_URL": tg.base_url,
            "DATABASE_URL": database, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": f"t{uuid.uuid4().hex[:8]}",
            "WEBHOOK_URL": public, "WEBHOOK_SECRET": SECRET, "SEND_PRIVATE_INTERVAL": "0",
            "SEND_GROUP_INTERVAL": "0", "LOG_LEVEL": "WARNING",
        }
        ports = [*web_ports, _free_port(), _free_port()]
        roles = ["web", "web", "worker", "worker"]
        try:
            for role, port in zip(roles, ports, strict=True):
                log = (tmp_path / f"{role}-{port}.log").open("wb")
                processes.append(subprocess.Popen(
                    [sys.executable, "-m", "bot", "run", "--role", role],
                    env={**env, "WEB_PORT": str(port)}, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                ))
            deadline = time.monotonic() + 60
            for port in ports:
                await _healthy(port, deadline)
            assert tg.webhook.url == f"{public}/telegram" and tg.webhook.secret_token == SECRET

            residents = [tg.person(uid, name, "en", phone) for uid, name, phone in REGISTRY.values()]
            for person in residents:  # every step of a dialog lands on the other process
                for update in (person.start(), person.share_contact(), person.command("new")):
                    assert await tg.deliver_webhook(update) == 200
            for step in ("Repair", "Leaking tap", "My flat", "No"):
                for person in residents:
                    await _until(lambda p=person, s=step: _has_button(tg, p.id, s), 20)
                    assert await tg.deliver_webhook(person.press(_keyboard(tg, person.id), step)) == 200
            for person in residents:
                assert await tg.deliver_webhook(person.text(f"Drip in the flat of {person.user.first_name}")) == 200
            for step in ("Skip", "Submit"):
                for person in residents:
                    await _until(lambda p=person, s=step: _has_button(tg, p.id, s), 20)
                    update = person.press(_keyboard(tg, person.id), step)
                    assert await tg.deliver_webhook(update) == 200
                    if step == "Submit":
                        assert await tg.deliver_webhook(update) == 200  # redelivered: does nothing

            await _until(lambda: all(_count(tg, p.id, "is registered") == 1 for p in residents), 30)
            numbers = [f"R-{i:06d}" for i in range(1, len(residents) + 1)]
            await _until(lambda: all(_count(tg, MANAGERS, f"{n} was not taken") == 1 for n in numbers), 30)
            await asyncio.sleep(3)  # several more ticks of both workers
            for person in residents:
                assert _count(tg, person.id, "is registered") == 1
            for number in numbers:
                assert _count(tg, PLUMBING, f"{number}") >= 1
                assert _count(tg, MANAGERS, f"{number} was not taken") == 1
                assert _count(tg, PLUMBING, f"<b>{number}</b> is still waiting") <= 1
            cards = [m for m in tg.bot_messages(PLUMBING) if m.content.startswith("R-")]
            assert len(cards) == len(numbers)  # one card each, never posted twice
            assert not [c for c in tg.calls if not c.ok and "not modified" not in (c.description or "")]
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            await balancer.stop()
            for log_file in tmp_path.glob("*.log"):
                content = log_file.read_text(errors="replace")
                assert "Traceback" not in content, f"{log_file.name}:\n{content[-3000:]}"


def _keyboard(tg: FakeTelegram, chat_id: int):  # type: ignore[no-untyped-def]
    for message in reversed(tg.bot_messages(chat_id)):
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            return message
    raise AssertionError("no keyboard")


def _has_button(tg: FakeTelegram, chat_id: int, text: str) -> bool:
    try:
        return text in str(_keyboard(tg, chat_id).reply_markup)
    except AssertionError:
        return False


def _count(tg: FakeTelegram, chat_id: int, needle: str) -> int:
    return sum(needle in m.content or needle in (m.html or "") for m in tg.bot_messages(chat_id))
