"""Updates per second, handling latency and memory of a bot process against the fake Bot API.

One scenario = one bot process (Frontdoor, or a minimal aiogram / python-telegram-bot echo bot)
fed by this process, which hosts the fake Bot API server and plays the humans:

1. warm-up (Frontdoor: 48 residents file a request each, so the departments have cards);
2. saturation: a fixed number of updates always in flight (closed loop) -> sustained updates/s;
3. fixed offered load: Poisson arrivals at ``rate``/s (open loop) -> p50 / p99;
4. RSS of the bot process.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.common import (
    BENCH,
    REDIS_URL,
    pg_drop,
    pg_recreate,
    prepare_database,
    rss_mb,
    seed_residents,
)
from bench.load import (
    BotProcess,
    Driver,
    PhaseResult,
    Workload,
    api_errors,
    settle,
    start_fake,
)


@dataclass
class ScenarioConfig:
    label: str
    bot: str  # frontdoor, aiogram-echo, aiogram-once (echo + arrival record), ptb-echo
    mode: str  # polling, webhook
    database: str | None = None  # sqlite, postgres (Frontdoor and aiogram-once)
    redis: bool = False
    residents: int = 100_000  # in the database
    active: int = 1_500  # residents who act (and exist in the fake server)
    concurrency: int = 32  # updates in flight in the saturation phase
    duration: float = 10.0
    rate: float = 200.0
    staff_share: float = 0.10
    profile: bool = False
    ladder: tuple[float, ...] = ()  # extra, lower offered rates (Frontdoor): where p99 stands
    experiments: tuple[str, ...] = ()  # bench/botproc.py --experiment (proposed fixes)


@dataclass
class ScenarioResult:
    config: ScenarioConfig
    saturation: PhaseResult | None = None
    fixed: PhaseResult | None = None
    ladder: list[PhaseResult] = field(default_factory=list)
    rss_mb: float = float("nan")
    rss_start_mb: float = float("nan")
    errors_logged: int = 0
    error_excerpt: list[str] = field(default_factory=list)
    updates_handled: int = 0
    webhook_failures: int = 0
    setup_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    profile: Path | None = None
    failed: str | None = None


class CpuMeter:
    def __init__(self, pid: int) -> None:
        self.bot = psutil.Process(pid)
        self.me = psutil.Process()

    def snapshot(self) -> tuple[float, float, float, Any]:
        b = self.bot.cpu_times()
        m = self.me.cpu_times()
        return time.monotonic(), b.user + b.system, m.user + m.system, psutil.cpu_times()

    @staticmethod
    def apply(result: PhaseResult, before: tuple[Any, ...], after: tuple[Any, ...]) -> None:
        wall = after[0] - before[0]
        result.bot_cpu = (after[1] - before[1]) / wall
        result.driver_cpu = (after[2] - before[2]) / wall
        idle = lambda t: t.idle + getattr(t, "iowait", 0.0)  # noqa: E731
        total = lambda t: sum(t)  # noqa: E731
        busy = (total(after[3]) - idle(after[3])) - (total(before[3]) - idle(before[3]))
        result.system_cpu = busy / max(1e-9, total(after[3]) - total(before[3]))


async def _warm_up(driver: Driver, work: Workload, frontdoor: bool) -> None:
    if not frontdoor:
        await driver.closed_loop(work, 16, 2.0, "warm-up")
        return
    residents = [work.idle_residents.popleft() for _ in range(48)]

    async def file_one(actor: Any) -> None:
        actor.script.clear()
        actor.script.extend(["new", "kind", "category", "place", "emergency", "description",
                             "skip", "submit"])
        while actor.script:
            update, kind = work.next_update(actor)
            _, future = driver.send(update, kind)
            await asyncio.wait_for(future, 60)
        work.give_back(actor)

    await asyncio.gather(*(file_one(a) for a in residents))
    for _ in range(50):  # wait for the cards (outbox) to reach both department groups
        if work.cards(-1001) and work.cards(-1002):
            break
        await asyncio.sleep(0.2)
        work._cards_at = 0.0
    await driver.closed_loop(work, 16, 2.0, "warm-up")


async def run_scenario(config: ScenarioConfig, workdir: Path) -> ScenarioResult:
    result = ScenarioResult(config)
    frontdoor = config.bot == "frontdoor"
    db_url = None
    setup_started = time.perf_counter()
    if config.database is not None:  # Frontdoor, and the echo bot with its arrival record
        if config.database == "postgres":
            db_url = await pg_recreate()
        else:
            db_url = f"sqlite+aiosqlite:///{workdir / (config.label.replace(' ', '_') + '.db')}"
        await prepare_database(db_url)
        from storage.engine import make_engine

        engine = make_engine(db_url)
        try:
            await seed_residents(engine, config.residents, history_for=config.active, history_each=3)
        finally:
            await engine.dispose()
        if config.redis:
            import redis.asyncio as aioredis

            client = aioredis.from_url(REDIS_URL)
            await client.flushdb()
            await client.aclose()
    tg = await start_fake()
    driver = Driver(tg, config.mode)
    await driver.start()
    work = Workload(tg, config.active, echo=not frontdoor, staff_share=config.staff_share)
    logs = BENCH / "logs"
    logs.mkdir(exist_ok=True)
    log = logs / f"{config.label.lower().replace(' ', '-').replace(',', '').replace('+', 'and')}.log"
    bot = BotProcess(config.bot, tg.base_url, config.mode, driver.port, log, db=db_url,
                     redis=REDIS_URL if config.redis else None, experiments=config.experiments)
    try:
        await driver.wait_ready(bot)
        result.setup_seconds = time.perf_counter() - setup_started
        result.rss_start_mb = rss_mb(bot.pid)
        await _warm_up(driver, work, frontdoor)
        await settle(driver, 1.0)
        tg.clear_calls()
        meter = CpuMeter(bot.pid)
        work.script_errors = 0

        before = meter.snapshot()
        profiler = _start_profiler(bot.pid, config, workdir) if config.profile else None
        saturation = await driver.closed_loop(work, config.concurrency, config.duration, "saturation")
        if profiler is not None:
            result.profile = await _finish_profiler(profiler)
        CpuMeter.apply(saturation, before, meter.snapshot())
        await settle(driver, 1.5)
        saturation.api_errors = api_errors(tg)
        result.saturation = saturation
        tg.clear_calls()

        for rate in config.ladder:
            before = meter.snapshot()
            step = await driver.open_loop(work, rate, config.duration, f"{rate:.0f}/s")
            CpuMeter.apply(step, before, meter.snapshot())
            result.ladder.append(step)
            await settle(driver, 1.0)
        tg.clear_calls()
        work.script_errors = 0
        before = meter.snapshot()
        fixed = await driver.open_loop(work, config.rate, config.duration, f"{config.rate:.0f}/s")
        CpuMeter.apply(fixed, before, meter.snapshot())
        await settle(driver, 1.5)
        fixed.api_errors = api_errors(tg)
        result.fixed = fixed
        result.rss_mb = rss_mb(bot.pid)
        result.updates_handled = tg._counters.update_id - 100_000
        result.webhook_failures = driver.webhook_failures
    except Exception as error:  # keep going with the other scenarios; the table says why
        result.failed = f"{type(error).__name__}: {error}"
    finally:
        await bot.stop()
        result.errors_logged = bot.errors_logged()
        result.error_excerpt = bot.error_excerpt()
        driver.close()
        await tg.stop()
        if config.database == "postgres":
            await pg_drop()
    return result


# ---- profiling (py-spy, attached to the bot process during the saturation phase) -----------------
def _start_profiler(pid: int, config: ScenarioConfig, workdir: Path) -> tuple[subprocess.Popen[bytes], Path] | None:
    spy = shutil.which("py-spy") or str(Path(__import__("sys").executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    out = BENCH / "profiles"
    out.mkdir(exist_ok=True)
    name = config.label.lower().replace(" ", "-").replace("+", "").replace("/", "-")
    # Samples only the thread holding the GIL: where the Python CPU time goes. A second,
    # wall-clock profile of every thread (idle included) is written next to it.
    target = out / f"{name}.gil.collapsed.txt"
    common = [spy, "record", "--pid", str(pid), "--duration", str(int(config.duration)),
              "--rate", "200", "--nonblocking", "--format", "raw"]
    proc = subprocess.Popen([*common, "--gil", "--output", str(target)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.Popen([*common, "--threads", "--idle", "--output", str(out / f"{name}.wall.collapsed.txt")],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, target


async def _finish_profiler(profiler: tuple[subprocess.Popen[bytes], Path]) -> Path | None:
    proc, target = profiler
    for _ in range(100):
        if proc.poll() is not None:
            break
        await asyncio.sleep(0.2)
    if proc.poll() is None:
        proc.terminate()
    return target if target.exists() else None


def top_frames(collapsed: Path, limit: int = 15) -> list[tuple[str, float, float]]:
    """(function, self share, inclusive share) from a py-spy raw (collapsed) profile."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        leaf = _short(frames[-1])
        own[leaf] = own.get(leaf, 0) + count
        for name in {_short(f) for f in frames}:
            inclusive[name] = inclusive.get(name, 0) + count
    if not total:
        return []
    ranked = sorted(own.items(), key=lambda item: -item[1])[:limit]
    return [(name, n / total, inclusive.get(name, 0) / total) for name, n in ranked]


STDLIB = {"asyncio", "logging", "concurrent", "json", "selectors", "threading", "typing",
          "functools", "copy", "enum", "re", "urllib", "contextlib", "weakref", "socket", "http",
          "dataclasses", "datetime", "zoneinfo", "gettext", "queue", "warnings"}


def by_package(collapsed: Path) -> list[tuple[str, float]]:
    """Share of samples by the package of the innermost frame (the GIL profile: CPU)."""
    import re

    counts: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        total += count
        if "__class_getitem__ (pydantic" in stack:
            name = "pydantic: rebuilding Response[T] (aiogram check_response)"
        else:
            where = stack.split(";")[-1].rsplit("(", 1)[-1]
            match = re.match(r"([\w\-.]+)[/:]", where)
            top = match.group(1) if match else where
            top = top.removesuffix(".py")
            name = f"stdlib {top}" if top in STDLIB else top
            if name in ("bot", "handlers", "storage", "schedules"):
                name = "Frontdoor (bot/, handlers/, storage/)"
        counts[name] = counts.get(name, 0) + count
    return [(name, n / total) for name, n in sorted(counts.items(), key=lambda i: -i[1])] if total else []


def _short(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "function (file.py)"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})"


async def main_cli() -> None:  # a single scenario, for ad-hoc runs
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("bot", choices=["frontdoor", "aiogram-echo", "aiogram-once", "ptb-echo"])
    parser.add_argument("--mode", default="polling")
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--redis", action="store_true")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--ladder", default="", help="extra offered rates, e.g. 10,25")
    parser.add_argument("--experiment", action="append", default=[],
                        help="a proposed fix applied from outside (see bench/botproc.py)")
    args = parser.parse_args()
    database = args.db if args.bot in ("frontdoor", "aiogram-once") else None
    config = ScenarioConfig(f"{args.bot} {args.db} {args.mode}", args.bot, args.mode, database,
                            args.redis, residents=args.residents, duration=args.duration,
                            concurrency=args.concurrency, rate=args.rate, profile=args.profile,
                            ladder=tuple(float(x) for x in args.ladder.split(",") if x),
                            experiments=tuple(args.experiment))
    with tempfile.TemporaryDirectory(prefix="fdbench-") as folder:
        result = await run_scenario(config, Path(folder))
        print_result(result)
        if result.failed or result.errors_logged:
            print(Path(folder, f"{config.label.replace(' ', '_')}.log").read_text()[-4000:])


def print_result(result: ScenarioResult) -> None:
    print(f"== {result.config.label}: setup {result.setup_seconds:.1f}s  rss {result.rss_start_mb:.0f}->{result.rss_mb:.0f} MB"
          f"  errors logged {result.errors_logged}  failed={result.failed}")
    for phase in (result.saturation, *result.ladder, result.fixed):
        if phase is None:
            continue
        print(f"  {phase.name}: {phase.throughput:.0f}/s over {phase.duration:.1f}s (offered {phase.offered_rate}) "
              f"p50 {phase.p(50)*1000:.1f} p99 {phase.p(99)*1000:.1f} ms  in-bot p50 {phase.p(50, True)*1000:.1f} "
              f"p99 {phase.p(99, True)*1000:.1f}  lost {phase.lost} skipped {phase.skipped} "
              f"cpu bot {phase.bot_cpu:.0%} driver {phase.driver_cpu:.0%} system {phase.system_cpu:.0%} "
              f"script_errors {phase.script_errors}")
        for kind, (n, p50, p99, worst) in phase.by_kind().items():
            print(f"     {kind:<14} n={n:<6} p50 {p50*1000:7.1f}  p99 {p99*1000:7.1f}  max {worst*1000:7.1f} ms")
        if phase.api_errors:
            print(f"     api errors: {dict(phase.api_errors.most_common(5))}")
    if result.profile:
        for name, own, incl in top_frames(result.profile):
            print(f"     {own:6.1%} self {incl:6.1%} incl  {name}")


if __name__ == "__main__":
    asyncio.run(main_cli())
