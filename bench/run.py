"""Frontdoor's benchmark suite: one command, one machine, one table.

    python -m bench.run              # everything (~12 min on 2 cores); announcement to 3,000
    python -m bench.run --quick      # shorter phases, smaller tables (~5 min)
    python -m bench.run --full       # announcement to 10,000 residents (+4 min), sweep drained
    python -m bench.run --announce 10000   # default suite, announcement to 10,000 (~14 min)
    python -m bench.run --only updates,sweep --profile

Prints a Markdown report and writes it to ``bench/results.md``. Needs the ``bench`` extra
(``pip install -e '.[bench]'``), PostgreSQL at ``BENCH_POSTGRES_URL`` / ``TEST_POSTGRES_URL``
(default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``; the suite creates and drops its
own database ``fd_bench``) and Redis at ``BENCH_REDIS_URL`` for ``--redis``.

Parts (``--only``): ``updates`` (1, 2, 6), ``announce`` (3), ``stats`` (4, runs
``bench/stats_bench.py``), ``sweep`` (5).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench.common import BENCH, pg_reachable  # noqa: E402

TARGET_P99 = 0.050
TARGET_RSS = 200.0
TARGET_SWEEP = 0.200
TARGET_ANNOUNCE = 1.10


@dataclass
class Options:
    quick: bool
    full: bool
    only: set[str]
    profile: bool
    redis: bool
    duration: float
    residents: int
    announce_residents: int
    sweep_rows: int
    stats_rows: int
    rate: float


def ms(seconds: float) -> str:
    return "—" if seconds != seconds else (f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms")


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("✅ met" if ok else "❌ missed")


class Report:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)
        for line in lines:
            print(line, flush=True)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


# ---- parts ----------------------------------------------------------------------------------------
async def part_updates(opts: Options, workdir: Path) -> list[Any]:
    from bench.updates_bench import ScenarioConfig, run_scenario

    scenarios = [
        ScenarioConfig("Frontdoor SQLite + polling", "frontdoor", "polling", "sqlite"),
        ScenarioConfig("Frontdoor PostgreSQL + webhook", "frontdoor", "webhook", "postgres"),
    ]
    if opts.redis:
        scenarios.append(ScenarioConfig("Frontdoor PostgreSQL + webhook + Redis", "frontdoor",
                                        "webhook", "postgres", redis=True))
    scenarios += [
        ScenarioConfig("aiogram echo, polling", "aiogram-echo", "polling"),
        ScenarioConfig("aiogram echo, webhook", "aiogram-echo", "webhook"),
        # The echo bot plus Frontdoor's arrival record (UpdateLog.arrive): the floor of
        # exactly-once on this stack, next to the echo bot it is measured against.
        ScenarioConfig("aiogram echo + arrival record, SQLite + polling", "aiogram-once", "polling",
                       "sqlite"),
        ScenarioConfig("aiogram echo + arrival record, PostgreSQL + webhook", "aiogram-once",
                       "webhook", "postgres"),
        ScenarioConfig("python-telegram-bot echo, polling", "ptb-echo", "polling"),
        ScenarioConfig("python-telegram-bot echo, webhook", "ptb-echo", "webhook"),
    ]
    if not pg_reachable():
        scenarios = [s for s in scenarios if s.database != "postgres"]
    results = []
    for config in scenarios:
        config.duration = opts.duration
        config.rate = opts.rate
        config.residents = opts.residents
        config.profile = opts.profile and config.bot == "frontdoor"
        if config.bot == "frontdoor":
            config.ladder = (10.0, 25.0)
        print(f"… {config.label}", flush=True)
        started = time.perf_counter()
        result = await run_scenario(config, workdir)
        print(f"  done in {time.perf_counter() - started:.0f} s", flush=True)
        results.append(result)
    return results


def run_stats_bench(rows: int) -> tuple[str, dict[str, dict[str, float]], str | None]:
    script = BENCH / "stats_bench.py"
    if not script.exists():
        return "", {}, "bench/stats_bench.py does not exist yet"
    proc = subprocess.run(
        [sys.executable, str(script), "--rows", str(rows)], cwd=ROOT, capture_output=True,
        text=True, timeout=1800,
    )
    figures: dict[str, dict[str, float]] = {}
    section = "?"
    for line in proc.stdout.splitlines():
        head = re.match(r"^(\w+): generating", line.strip())
        if head:
            section = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(head.group(1), head.group(1))
            figures[section] = {}
            continue
        timed = re.match(r"^\s+(.+?)\s+([\d.]+) s$", line)
        if timed:
            figures.setdefault(section, {})[timed.group(1).strip()] = float(timed.group(2))
    problem = None if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    return proc.stdout, figures, problem


# ---- the report ----------------------------------------------------------------------------------
def environment(report: Report, opts: Options, load_before: tuple[float, ...]) -> None:
    freq = psutil.cpu_freq()
    report.add(
        "## Machine and run",
        "",
        f"- {datetime.now():%Y-%m-%d %H:%M}, {platform.platform()}, {psutil.cpu_count()} CPUs"
        + (f" @ {freq.current:.0f} MHz" if freq else "")
        + f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM",
        f"- Python {platform.python_version()}; aiogram {version('aiogram')}, "
        f"python-telegram-bot {version('python-telegram-bot')}, SQLAlchemy {version('SQLAlchemy')}, "
        f"aiosqlite {version('aiosqlite')}, asyncpg {version('asyncpg')}, pydantic {version('pydantic')}",
        f"- mode: {'quick' if opts.quick else 'full' if opts.full else 'default'}; update phases "
        f"{opts.duration:.0f} s each; {opts.residents:,} residents in the database; "
        f"load average before the run: {', '.join(f'{x:.2f}' for x in load_before)}",
        "",
    )


def updates_section(report: Report, results: list[Any], opts: Options) -> list[tuple[str, str, str, str]]:
    summary: list[tuple[str, str, str, str]] = []
    by_label = {r.config.label: r for r in results}

    def echo_for(mode: str) -> Any:
        return by_label.get(f"aiogram echo, {mode}")

    report.add(
        "## 1–2, 6. Updates: throughput, latency, memory",
        "",
        "Latency = from the moment the fake Bot API server hands out the update (pushed to the "
        "`getUpdates` queue, or the webhook POST starts) to the moment the bot's "
        "`Dispatcher.feed_update` / PTB's `process_update` returns (every middleware, the handler "
        "and the handler's own Bot API calls done), one `time.monotonic()` clock for both "
        "processes. Each bot runs in a process of its own; the fake server and the simulated "
        "people run in the benchmark process.",
        "",
        f"*Sustained* = {results[0].config.concurrency if results else 32} updates always in flight "
        f"(closed loop) for {opts.duration:.0f} s. *Offered* = Poisson arrivals at "
        f"{opts.rate:.0f}/s for {opts.duration:.0f} s, whatever the bot does (open loop; updates "
        "not handled within 30 s count as lost).",
        "",
        "| bot | sustained updates/s | p50 / p99 at saturation | offered → handled/s | p50 | p99 | in-bot p99 | CPU bot / driver (sat; offered) | other load | RSS after | vs targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    )
    for r in results:
        c = r.config
        if r.failed or r.saturation is None or r.fixed is None:
            report.add(f"| {c.label} | FAILED: {r.failed} | | | | | | | | | |")
            continue
        s, f = r.saturation, r.fixed
        handled = f.handled_in_window
        notes = []
        if c.bot == "frontdoor":
            p99_ok = f.p(99) < TARGET_P99 and f.lost == 0
            notes.append(f"p99 {verdict(p99_ok)}")
            echo = echo_for(c.mode)
            if echo is not None and echo.saturation is not None:
                ratio = s.throughput / max(1e-9, echo.saturation.throughput)
                notes.append(f"{ratio:.2f}× aiogram echo {verdict(ratio >= 0.5)}")
                summary.append((f"1. {c.label}: throughput ≥ ½ aiogram echo ({c.mode})",
                                f"{s.throughput:.0f}/s vs {echo.saturation.throughput:.0f}/s = {ratio:.2f}×",
                                "≥ 0.5×", verdict(ratio >= 0.5)))
            summary.append((f"1. {c.label}: p99 at {opts.rate:.0f} updates/s",
                            f"{ms(f.p(99))} (handled {handled:.0f}/s, lost {f.lost})", "< 50 ms",
                            verdict(p99_ok)))
            if c.database == "sqlite":
                rss_ok = r.rss_mb < TARGET_RSS
                notes.append(f"RSS {verdict(rss_ok)}")
                summary.append((f"6. RSS, {c.residents:,} residents, {r.updates_handled:,} updates (SQLite)",
                                f"{r.rss_mb:.0f} MB (at start {r.rss_start_mb:.0f} MB)", "< 200 MB",
                                verdict(rss_ok)))
            else:
                summary.append((f"6. RSS, {c.residents:,} residents, {r.updates_handled:,} updates ({'PostgreSQL + Redis' if c.redis else 'PostgreSQL'})",
                                f"{r.rss_mb:.0f} MB (at start {r.rss_start_mb:.0f} MB)", "< 200 MB",
                                verdict(r.rss_mb < TARGET_RSS)))
        if c.bot == "aiogram-once":
            echo = echo_for(c.mode)
            if echo is not None and echo.saturation is not None:
                ratio = s.throughput / max(1e-9, echo.saturation.throughput)
                notes.append(f"floor: {ratio:.2f}× aiogram echo; p99 at {opts.rate:.0f}/s {ms(f.p(99))}")
                summary.append((f"1. floor: aiogram echo + arrival record ({c.mode}), for reference",
                                f"{s.throughput:.0f}/s vs {echo.saturation.throughput:.0f}/s = {ratio:.2f}×; "
                                f"p99 at {opts.rate:.0f}/s {ms(f.p(99))}", "—", "reference"))
        other = max(0.0, f.system_cpu * (psutil.cpu_count() or 1) - f.bot_cpu - f.driver_cpu)
        report.add(
            f"| {c.label} | {s.throughput:.0f} | {ms(s.p(50))} / {ms(s.p(99))} | "
            f"{f.offered_rate or 0:.0f} → {handled:.0f}{f' (lost {f.lost})' if f.lost else ''} | "
            f"{ms(f.p(50))} | {ms(f.p(99))} | {ms(f.p(99, True))} | "
            f"{s.bot_cpu:.0%} / {s.driver_cpu:.0%}; {f.bot_cpu:.0%} / {f.driver_cpu:.0%} | "
            f"{other:.2f} cores | {r.rss_mb:.0f} MB | {'; '.join(notes) or 'reference'} |"
        )
    report.add(
        "",
        "*handled/s* counts updates whose handling finished inside the phase's window. *CPU* is a "
        "process's CPU time over wall time (100% = one core); *driver* = the benchmark process "
        "(fake Bot API server + simulated people). *other load* = "
        "CPU used on the machine during the offered-load phase by anything but the bot and the "
        "benchmark process (PostgreSQL's backends count here), in cores out of "
        f"{psutil.cpu_count()}.",
        "",
    )
    frontdoor = [r for r in results if r.config.bot == "frontdoor" and r.saturation is not None]
    if any(r.ladder for r in frontdoor):
        report.add("Frontdoor at lower offered rates (Poisson, same mix), to show where p99 stands:", "",
                   "| scenario | offered/s | handled/s | p50 | p99 | in-bot p99 | bot CPU |",
                   "|---|---|---|---|---|---|---|")
        for r in frontdoor:
            for step in r.ladder + ([r.fixed] if r.fixed else []):
                report.add(f"| {r.config.label} | {step.offered_rate or 0:.0f} | {step.handled_in_window:.0f} | "
                           f"{ms(step.p(50))} | {ms(step.p(99))} | {ms(step.p(99, True))} | {step.bot_cpu:.0%} |")
        report.add("")
    if frontdoor:
        report.add("Frontdoor's latency by update type (offered load phase):", "",
                   "| scenario | update | n | p50 | p99 | max |", "|---|---|---|---|---|---|")
        for r in frontdoor:
            assert r.fixed is not None
            for kind, (n, p50, p99, worst) in r.fixed.by_kind().items():
                report.add(f"| {r.config.label} | {kind} | {n} | {ms(p50)} | {ms(p99)} | {ms(worst)} |")
        report.add("")
        problems = []
        for r in frontdoor:
            for phase in (r.saturation, r.fixed):
                if phase is not None and phase.api_errors:
                    problems.append(f"- {r.config.label}, {phase.name}: Bot API errors {dict(phase.api_errors.most_common(4))}")
            if r.errors_logged:
                problems.append(f"- {r.config.label}: {r.errors_logged} ERROR lines / tracebacks in the bot's log (bench/logs/)")
                problems += [f"  - `{line}`" for line in r.error_excerpt]
            if r.webhook_failures:
                problems.append(f"- {r.config.label}: {r.webhook_failures} webhook deliveries not answered 200")
        if problems:
            report.add("Problems seen during the runs:", "", *problems, "")
        from bench.updates_bench import by_package

        for r in frontdoor:
            if r.profile is None or not r.profile.exists():
                continue
            report.add(f"CPU profile of {r.config.label} at saturation (py-spy, samples holding the "
                       f"GIL, by the package of the innermost frame; `{r.profile.relative_to(ROOT)}`):", "",
                       "| package | share |", "|---|---|")
            for name, share in by_package(r.profile)[:10]:
                report.add(f"| {name} | {share:.1%} |")
            report.add("")
    return summary


def announce_section(report: Report, result: Any) -> list[tuple[str, str, str, str]]:
    report.add("## 3. Announcement under the flood limit", "")
    if result.failed:
        report.add(f"FAILED: {result.failed}", "")
        return [(f"3. Announcement to {result.residents:,}", f"FAILED: {result.failed}", "≤ 1.1× floor", "❌")]
    ok = result.ratio <= TARGET_ANNOUNCE and result.delivered == result.residents
    report.add(
        f"`AnnouncementService.queue` to {result.residents:,} verified residents, delivered by the "
        "real `OutboxSender` (`send_global_per_second=30`, private 1 s, group 3 s) to the fake server "
        "with its flood control on (30/s overall, 1/s per chat).",
        "",
        "| residents | queue (one transaction) | first message after | last message after | floor (N/30) | × floor | steady rate | delivered | 429s | failed |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {result.residents:,} | {result.queue_seconds:.2f} s | {result.first_send_after:.2f} s | "
        f"{result.total_seconds:.1f} s | {result.floor:.1f} s | {result.ratio:.3f} | "
        f"{result.steady_rate:.2f}/s | {result.delivered:,} | {result.rate_limit_429} | {result.failed_rows} |",
        "",
    )
    label = f"3. Announcement to {result.residents:,} residents" + ("" if result.residents >= 10_000 else " (not 10,000: run --full)")
    return [(label, f"{result.total_seconds:.1f} s = {result.ratio:.3f}× the {result.floor:.0f} s floor",
             "≤ 1.1× floor", verdict(ok))]


def stats_section(report: Report, rows: int, output: str, figures: dict[str, dict[str, float]],
                  problem: str | None) -> list[tuple[str, str, str, str]]:
    report.add("## 4. /stats over generated requests (bench/stats_bench.py)", "")
    if problem and not figures:
        report.add(f"TODO: {problem}", "")
        return [("4. /stats over 1,000,000 requests", f"TODO: {problem}", "—", "—")]
    report.add(f"`python bench/stats_bench.py --rows {rows}` (written by another engineer; its own "
               "targets, if any, are not restated here):", "")
    labels = sorted({k for f in figures.values() for k in f})
    dbs = list(figures)
    report.add("| step | " + " | ".join(dbs) + " |", "|---|" + "---|" * len(dbs))
    for label in labels:
        report.add(f"| {label} | " + " | ".join(
            (f"{figures[d][label]:.3f} s" if label in figures[d] else "—") for d in dbs) + " |")
    if problem:
        report.add("", f"stats_bench reported a problem: {problem}")
    report.add("")
    key = "/stats quarter: the whole answer (text)"
    summary = []
    for db in dbs:
        value = figures[db].get(key)
        if value is not None:
            summary.append((f"4. /stats for a quarter over {rows:,} requests ({db})", f"{value * 1000:.0f} ms",
                            "— (see stats_bench)", "—"))
    return summary or [("4. /stats", "see section 4", "—", "—")]


def sweep_section(report: Report, results: list[Any]) -> list[tuple[str, str, str, str]]:
    report.add("## 5. The scheduler's sweep", "")
    summary = []
    report.add("Layouts: *recent* = the due requests are the newest (as in an estate: a claim "
               "reminder falls due for requests filed in the last half hour); *scattered* = one due "
               "request every 100 rows through the whole table (the worst case for writing them).", "")
    report.add("| database | layout | requests | due | generated in | first sweep (what one tick costs) | reminders in it | sweeps to send all | sweep with nothing due |",
               "|---|---|---|---|---|---|---|---|---|")
    for r in results:
        if r.failed:
            report.add(f"| {r.database} | {r.layout} | FAILED: {r.failed} | | | | | | |")
            summary.append((f"5. sweep, {r.database}", f"FAILED: {r.failed}", "< 200 ms", "❌"))
            continue
        report.add(
            f"| {r.database} | {r.layout} | {r.rows:,} | {r.due:,} | {r.generate_seconds:.1f} s | {ms(r.first_sweep)} | "
            f"{r.first_counts.get('claim_reminders', 0)} | {'~' if r.drained_estimated else ''}{r.sweeps_to_drain} "
            f"({r.drain_seconds:.0f} s{', estimated' if r.drained_estimated else ''}) | {ms(r.idle_sweep)} |"
        )
        summary.append((f"5. sweep, {r.rows:,} requests, {r.due:,} due ({r.database}, {r.layout})",
                        f"{ms(r.first_sweep)} (sends {r.first_counts.get('claim_reminders', 0)}); nothing due: {ms(r.idle_sweep)}",
                        "< 200 ms", verdict(r.first_sweep < TARGET_SWEEP and r.idle_sweep < TARGET_SWEEP)))
    report.add("")
    return summary


async def main_async(opts: Options) -> Report:
    report = Report()
    load_before = os.getloadavg()
    started = time.perf_counter()
    report.add("# Frontdoor benchmarks", "",
               f"Command: `python -m bench.run{' --quick' if opts.quick else ''}{' --full' if opts.full else ''}"
               f"{f' --announce {opts.announce_residents}' if opts.announce_residents not in (600, 3_000, 10_000) or (opts.announce_residents == 10_000 and not opts.full) else ''}"
               f"{' --redis' if opts.redis else ''}{' --profile' if opts.profile else ''}`", "")
    environment(report, opts, load_before)
    summary: list[tuple[str, str, str, str]] = []
    sections: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="fdbench-") as folder:
        workdir = Path(folder)
        if "updates" in opts.only:
            results = await part_updates(opts, workdir)
            sections.append(lambda rep: updates_section(rep, results, opts))
        if "announce" in opts.only:
            from bench.announce_bench import run_announcement

            print(f"… announcement to {opts.announce_residents:,} residents", flush=True)
            announce = await run_announcement(opts.announce_residents)
            sections.append(lambda rep: announce_section(rep, announce))
        if "stats" in opts.only:
            print(f"… bench/stats_bench.py --rows {opts.stats_rows}", flush=True)
            output, figures, problem = await asyncio.to_thread(run_stats_bench, opts.stats_rows)
            sections.append(lambda rep: stats_section(rep, opts.stats_rows, output, figures, problem))
        if "sweep" in opts.only:
            from bench.sweep_bench import run_all

            print(f"… sweep over {opts.sweep_rows:,} requests", flush=True)
            sweeps = await run_all(opts.sweep_rows, 10_000, None, opts.profile, drain=opts.full)
            sections.append(lambda rep: sweep_section(rep, sweeps))
    detail = Report()
    detail.lines = []
    for section in sections:
        summary += section(detail)
    report.add("## Results against the targets", "", "| measurement | result | target | verdict |",
               "|---|---|---|---|")
    for row in summary:
        report.add("| " + " | ".join(row) + " |")
    if "stats" not in opts.only:
        report.add("| 4. /stats over 1,000,000 requests | TODO: not run (--only) | — | — |")
    report.add("")
    report.lines.extend(detail.lines)
    report.add(f"Total benchmark time: {time.perf_counter() - started:.0f} s; load average after: "
               f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}.", "")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description="Frontdoor benchmark suite")
    parser.add_argument("--quick", action="store_true", help="5 s phases, smaller tables (~5 min)")
    parser.add_argument("--full", action="store_true", help="announcement to 10,000; sweep drained")
    parser.add_argument("--only", default="updates,announce,stats,sweep")
    parser.add_argument("--profile", action="store_true", help="py-spy / pyinstrument profiles in bench/profiles")
    parser.add_argument("--redis", action="store_true", help="also PostgreSQL + webhook + Redis")
    parser.add_argument("--announce", type=int, help="residents for the announcement (default 3,000; "
                        "--full 10,000; --quick 600)")
    parser.add_argument("--output", type=Path, default=BENCH / "results.md")
    args = parser.parse_args()
    opts = Options(
        quick=args.quick, full=args.full, only=set(args.only.split(",")), profile=args.profile,
        redis=args.redis,
        duration=5.0 if args.quick else 10.0,
        residents=100_000,
        announce_residents=args.announce or (10_000 if args.full else (600 if args.quick else 3_000)),
        sweep_rows=200_000 if args.quick else 1_000_000,
        stats_rows=200_000 if args.quick else 1_000_000,
        rate=200.0,
    )
    report = asyncio.run(main_async(opts))
    args.output.write_text(report.text())
    print(f"\nwritten to {args.output}")


if __name__ == "__main__":
    main()
