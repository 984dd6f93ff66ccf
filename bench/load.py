"""The load side of the update benchmarks: the fake Bot API server, human actors, and a driver
that delivers updates (getUpdates queue or webhook POSTs) and times each one to the end of its
handling, as reported by the bot process (see ``bench.botproc``).

Latency of an update = t_out (bot: handling finished) - t_sent (driver: pushed to the getUpdates
queue, or the webhook POST started). Both are ``time.monotonic()``, one clock for the machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    ELECTRICAL,
    ELECTRICIANS,
    GROUPS,
    OTHER_STAFF,
    PLUMBERS,
    PLUMBING,
    RESIDENT_BASE,
    ROOT,
    TOKEN,
    percentile,
)
from bot.emulator.actors import Person
from bot.emulator.server import FakeTelegram
from bot.emulator.state import StoredMessage

MY_LABEL = "📋 My requests"
WEBHOOK_MAX_CONNECTIONS = 40  # Telegram's default for setWebhook
DESCRIPTIONS = [
    "The kitchen tap drips all night",
    "Bathroom light flickers & buzzes <loudly>",
    "Water under the sink, since this morning",
    "Hallway socket sparks when I plug in the kettle",
]
STAFF_REPLIES = ["We will come at 5 pm", "Could you send a photo?", "Parts ordered, Thursday"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- results -----------------------------------------------------------------------------------
@dataclass
class Sample:
    kind: str
    sent: float
    t_in: float = 0.0
    t_out: float = 0.0
    done: bool = False

    @property
    def latency(self) -> float:
        return self.t_out - self.sent

    @property
    def in_bot(self) -> float:
        return self.t_out - self.t_in


@dataclass
class PhaseResult:
    name: str
    duration: float
    samples: list[Sample]
    offered_rate: float | None = None
    lost: int = 0
    skipped: int = 0
    bot_cpu: float = 0.0  # share of one core
    driver_cpu: float = 0.0
    system_cpu: float = 0.0  # share of the whole machine (all cores)
    api_errors: Counter[str] = field(default_factory=Counter)
    script_errors: int = 0
    started: float = 0.0

    @property
    def handled_in_window(self) -> float:
        """Updates per second whose handling finished within the phase's window."""
        end = self.started + self.duration
        return sum(1 for s in self.samples if s.done and s.t_out <= end) / self.duration

    @property
    def completed(self) -> list[Sample]:
        return [s for s in self.samples if s.done]

    @property
    def throughput(self) -> float:
        return len(self.completed) / self.duration if self.duration else 0.0

    def p(self, q: float, in_bot: bool = False) -> float:
        values = [s.in_bot if in_bot else s.latency for s in self.completed]
        return percentile(values, q)

    def by_kind(self) -> dict[str, tuple[int, float, float, float]]:
        kinds: dict[str, list[float]] = {}
        for s in self.completed:
            kinds.setdefault(s.kind, []).append(s.latency)
        return {
            k: (len(v), percentile(v, 50), percentile(v, 99), max(v))
            for k, v in sorted(kinds.items(), key=lambda item: -len(item[1]))
        }


# ---- the bot process ----------------------------------------------------------------------------
class BotProcess:
    def __init__(self, kind: str, api: str, mode: str, notify: int, log: Path,
                 db: str | None = None, redis: str | None = None,
                 experiments: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.log = log
        command = [sys.executable, "-m", "bench.botproc", kind, "--api", api, "--mode", mode,
                   "--port", str(self.port), "--notify", str(notify)]
        if db:
            command += ["--db", db]
        if redis:
            command += ["--redis", redis]
        for experiment in experiments:
            command += ["--experiment", experiment]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for name in ("BOT_TOKEN", "DATABASE_URL", "REDIS_URL", "WEBHOOK_URL", "ESTATE_FILE"):
            env.pop(name, None)
        self._log_file = log.open("w")
        self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log_file,
                                     stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def error_excerpt(self, limit: int = 3) -> list[str]:
        """The first distinct ERROR lines (and exception lines) of the bot's log."""
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except OSError:
            return []
        found: list[str] = []
        for index, line in enumerate(lines):
            if " ERROR " in line:
                cause = next((text for text in lines[index + 1 : index + 80] if text and not text.startswith((" ", "Traceback", "\t"))), "")
                entry = f"{line.split(' ERROR ', 1)[1][:160]} → {cause[:200]}"
                if entry not in found:
                    found.append(entry)
            if len(found) >= limit:
                break
        return found

    def errors_logged(self) -> int:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if " ERROR " in line or "Traceback" in line)

    async def stop(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGINT)
            for _ in range(100):
                if not self.alive():
                    break
                await asyncio.sleep(0.1)
            if self.alive():
                self.proc.terminate()
                await asyncio.sleep(1)
            if self.alive():
                self.proc.kill()
        self.proc.wait()
        self._log_file.close()


# ---- actors and their scripts ------------------------------------------------------------------
Step = Callable[["Actor"], tuple[dict[str, Any], str] | None]


class Actor:
    def __init__(self, person: Person, staff_group: int | None = None) -> None:
        self.person = person
        self.staff_group = staff_group
        self.script: deque[str] = deque()


class Workload:
    """Picks who acts next and what they send; the mix is described in ``bench/run.py``."""

    ACTIVITIES = [  # (weight, steps)
        (0.25, ["help"]),
        (0.20, ["my"]),
        (0.20, ["my_button"]),
        (0.20, ["my_button", "view"]),
        (0.15, ["new", "kind", "category", "place", "emergency", "description", "skip", "submit"]),
    ]
    ECHO_ACTIVITIES = [
        (0.3, ["help"]),
        (0.3, ["my"]),
        (0.2, ["my_button"]),
        (0.2, ["description"]),
    ]

    def __init__(self, tg: FakeTelegram, residents: int, echo: bool, staff_share: float,
                 seed: int = 7) -> None:
        self.tg = tg
        self.echo = echo
        self.rng = random.Random(seed)
        self.staff_share = 0.0 if echo else staff_share
        self.idle_residents: deque[Actor] = deque(
            Actor(tg.person(RESIDENT_BASE + i, f"Resident {i}", "en"))
            for i in range(1, residents + 1)
        )
        self.idle_staff: deque[Actor] = deque()
        if not echo:
            for tid in PLUMBERS:
                self.idle_staff.append(Actor(tg.person(tid, f"Plumber {tid}", "en"), PLUMBING))
            for tid in ELECTRICIANS:
                self.idle_staff.append(Actor(tg.person(tid, f"Electrician {tid}", "en"), ELECTRICAL))
        self.activities = self.ECHO_ACTIVITIES if echo else self.ACTIVITIES
        self.weights = [w for w, _ in self.activities]
        self.script_errors = 0
        self._cards: dict[int, list[StoredMessage]] = {}
        self._cards_at = 0.0

    # -- who
    def take(self) -> Actor | None:
        if self.idle_staff and self.rng.random() < self.staff_share:
            for _ in range(len(self.idle_staff)):
                actor = self.idle_staff.popleft()
                if actor.staff_group is not None and self.cards(actor.staff_group):
                    return actor
                self.idle_staff.append(actor)
        return self.idle_residents.popleft() if self.idle_residents else None

    def give_back(self, actor: Actor) -> None:
        (self.idle_staff if actor.staff_group is not None else self.idle_residents).append(actor)

    # -- what
    def next_update(self, actor: Actor) -> tuple[dict[str, Any], str]:
        if actor.staff_group is not None:
            cards = self.cards(actor.staff_group)
            card = self.rng.choice(cards)
            text = self.rng.choice(STAFF_REPLIES)
            return actor.person.text(text, chat_id=actor.staff_group, reply_to=card), "staff_reply"
        for _ in range(3):
            if not actor.script:
                _, steps = self.rng.choices(self.activities, self.weights)[0]
                actor.script.extend(steps)
            step = actor.script.popleft()
            made = self._make(actor, step)
            if made is not None:
                return made
            self.script_errors += 1
            actor.script.clear()
        return actor.person.command("help"), "help"

    def _make(self, actor: Actor, step: str) -> tuple[dict[str, Any], str] | None:
        person = actor.person
        if step == "help":
            return person.command("help"), "/help"
        if step == "my":
            return person.command("my"), "/my"
        if step == "my_button":
            return person.text(MY_LABEL), "my_button"
        if step == "description":
            return person.text(self.rng.choice(DESCRIPTIONS)), "dialog" if not self.echo else "text"
        if step == "new":
            return person.command("new"), "dialog"
        if step == "view":
            message = self._with_button(person, lambda b: str(b.get("callback_data", "")).startswith("ra:view:"))
            if message is None:
                return None
            data = next(
                str(b["callback_data"]) for row in message.reply_markup["inline_keyboard"] for b in row
                if str(b.get("callback_data", "")).startswith("ra:view:")
            )
            return person.press_data(message, data), "view"
        label = {
            "kind": "Repair",
            "category": self.rng.choice(["Leaking tap", "Light out"]),
            "place": "My flat",
            "emergency": "No",
            "skip": "Skip",
            "submit": "Submit",
        }[step]
        message = self._with_button(person, lambda b: label.lower() in str(b.get("text", "")).lower())
        if message is None:
            return None
        return person.press(message, label), "dialog_submit" if step == "submit" else "dialog"

    def _with_button(self, person: Person, match: Callable[[dict[str, Any]], bool]) -> StoredMessage | None:
        chat = self.tg.chats[person.id]
        for message_id in sorted(chat.messages, reverse=True)[:6]:
            message = chat.messages[message_id]
            if not message.sent_by_bot or message.deleted or not message.reply_markup:
                continue
            rows = message.reply_markup.get("inline_keyboard") or []
            if any(match(button) for row in rows for button in row):
                return message
        return None

    def cards(self, group: int) -> list[StoredMessage]:
        """Recent department cards (bot messages with buttons), refreshed twice a second."""
        now = time.monotonic()
        if now - self._cards_at > 0.5:
            self._cards_at = now
            for chat_id in (PLUMBING, ELECTRICAL):
                chat = self.tg.chats[chat_id]
                recent = sorted(chat.messages)[-400:]
                self._cards[chat_id] = [
                    chat.messages[i] for i in recent
                    if chat.messages[i].sent_by_bot and chat.messages[i].reply_markup
                    and not chat.messages[i].deleted
                ][-50:]
        return self._cards.get(group, [])


# ---- the driver ------------------------------------------------------------------------------
class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, driver: Driver) -> None:
        self.driver = driver

    def datagram_received(self, data: bytes, addr: Any) -> None:
        update_id, t_in, t_out = data.split()
        self.driver.completed(int(update_id), float(t_in), float(t_out))


class Driver:
    def __init__(self, tg: FakeTelegram, mode: str) -> None:
        self.tg = tg
        self.mode = mode
        self.pending: dict[int, tuple[Sample, asyncio.Future[None]]] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.webhook_failures = 0
        self._posts: set[asyncio.Task[Any]] = set()
        self._connections = asyncio.Semaphore(WEBHOOK_MAX_CONNECTIONS)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 2**20)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.transport, _ = await loop.create_datagram_endpoint(lambda: _Receiver(self), sock=sock)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def completed(self, update_id: int, t_in: float, t_out: float) -> None:
        entry = self.pending.pop(update_id, None)
        if entry is None:
            return
        sample, future = entry
        sample.t_in, sample.t_out, sample.done = t_in, t_out, True
        if not future.done():
            future.set_result(None)

    def send(self, update: dict[str, Any], kind: str) -> tuple[Sample, asyncio.Future[None]]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sample = Sample(kind, time.monotonic())
        self.pending[int(update["update_id"])] = (sample, future)
        if self.mode == "polling":
            self.tg.push_update(update)
        else:
            task = asyncio.create_task(self._post(update))
            self._posts.add(task)
            task.add_done_callback(self._posts.discard)
        return sample, future

    async def _post(self, update: dict[str, Any]) -> None:
        # Like Telegram: at most ``max_connections`` (default 40) webhook requests at once;
        # the rest wait on Telegram's side (and that wait counts in their latency).
        async with self._connections:
            status = await self.tg.deliver_webhook(update, request_timeout=60)
        if status != 200:
            self.webhook_failures += 1

    async def wait_ready(self, bot: BotProcess, limit: float = 90) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if not bot.alive():
                raise RuntimeError(f"bot process exited:\n{bot.tail()}")
            if self.mode == "polling" and any(c.method == "getUpdates" for c in self.tg.calls[-50:]):
                return
            if self.mode == "webhook" and self.tg.webhook.url:
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"bot not ready after {limit} s:\n{bot.tail()}")

    # -- load shapes
    async def closed_loop(self, work: Workload, concurrency: int, duration: float,
                          name: str) -> PhaseResult:
        """``concurrency`` updates always in flight: the sustained throughput."""
        samples: list[Sample] = []
        lost = 0
        end = time.monotonic() + duration

        async def worker() -> None:
            nonlocal lost
            while time.monotonic() < end:
                actor = work.take()
                if actor is None:
                    await asyncio.sleep(0.001)
                    continue
                try:
                    update, kind = work.next_update(actor)
                    sample, future = self.send(update, kind)
                    samples.append(sample)
                    try:
                        await asyncio.wait_for(future, 30)
                    except TimeoutError:
                        lost += 1
                finally:
                    work.give_back(actor)

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.monotonic() - started
        # count completions inside the window only
        window = [s for s in samples if s.done and s.t_out <= started + elapsed]
        return PhaseResult(name, elapsed, window, lost=lost, script_errors=work.script_errors)

    async def open_loop(self, work: Workload, rate: float, duration: float, name: str,
                        seed: int = 11) -> PhaseResult:
        """Poisson arrivals at ``rate`` per second for ``duration`` seconds, whatever the bot
        does; each update is timed to the end of its handling."""
        rng = random.Random(seed)
        samples: list[Sample] = []
        waiters: list[asyncio.Task[None]] = []
        skipped = 0
        lost = 0

        async def wait(actor: Any, future: asyncio.Future[None]) -> None:
            nonlocal lost
            try:
                await asyncio.wait_for(future, 30)
            except TimeoutError:
                lost += 1
            finally:
                work.give_back(actor)

        started = time.monotonic()
        due = started
        end = started + duration
        while True:
            due += rng.expovariate(rate)
            if due >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            actor = work.take()
            if actor is None:
                skipped += 1
                continue
            update, kind = work.next_update(actor)
            sample, future = self.send(update, kind)
            samples.append(sample)
            waiters.append(asyncio.create_task(wait(actor, future)))
        await asyncio.gather(*waiters)
        result = PhaseResult(name, duration, samples, offered_rate=len(samples) / duration,
                             lost=lost, skipped=skipped, script_errors=work.script_errors,
                             started=started)
        return result


async def settle(driver: Driver, seconds: float = 1.0) -> None:
    """Let the outbox sender and stragglers finish before the next phase."""
    await asyncio.sleep(seconds)
    driver.pending.clear()


def api_errors(tg: FakeTelegram) -> Counter[str]:
    errors: Counter[str] = Counter()
    for call in tg.calls:
        if not call.ok and call.method != "getUpdates":
            errors[f"{call.method} {call.error_code}: {(call.description or '')[:60]}"] += 1
    return errors


def setup_world(tg: FakeTelegram) -> None:
    for chat_id, title in GROUPS.items():
        tg.group(chat_id, title)
    for tid in PLUMBERS + ELECTRICIANS + OTHER_STAFF:
        tg.person(tid, f"Staff {tid}", started=True)


async def start_fake() -> FakeTelegram:
    tg = FakeTelegram(TOKEN)
    await tg.start()
    setup_world(tg)
    return tg
