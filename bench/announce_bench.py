"""An announcement to N residents under Telegram's flood limits (the fake server's rate limit on:
30 messages/s overall, 1/s per private chat, 20/min per group).

The real ``AnnouncementService.queue`` writes one outbox row per resident; the real
``OutboxSender`` (with the real ``Pacer``, ``send_global_per_second=30``) delivers them to the
fake Bot API server over HTTP. Measured: the time from "queue" to the last resident's message
arriving at the fake server, against the floor of N / 30 s.

    python -m bench.announce_bench [--residents 3000] [--db sqlite|postgres] [--queue-only]

``--queue-only`` times the queueing alone (no delivery: seconds instead of N / 30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    MANAGER_ID,
    RESIDENT_BASE,
    TOKEN,
    ShiftedClock,
    pg_drop,
    pg_recreate,
    prepare_database,
    seed_residents,
)
from bench.load import start_fake


@dataclass
class AnnounceResult:
    residents: int
    database: str
    queue_seconds: float = 0.0
    total_seconds: float = 0.0
    delivered: int = 0
    rate_limit_429: int = 0
    failed_rows: int = 0
    pending_rows: int = 0
    steady_rate: float = 0.0
    first_send_after: float = 0.0
    notes: list[str] = field(default_factory=list)
    failed: str | None = None
    queue_only: bool = False

    @property
    def floor(self) -> float:
        return self.residents / 30.0

    @property
    def ratio(self) -> float:
        return self.total_seconds / self.floor if self.floor else float("nan")


async def run_announcement(residents: int, database: str = "sqlite",
                           limit: float | None = None, queue_only: bool = False) -> AnnounceResult:
    from sqlalchemy import func, select

    from bot.app import build_app
    from bot.config import Settings
    from bot.services.announcements import Draft
    from storage.models import Outbox

    result = AnnounceResult(residents, database)
    folder = tempfile.TemporaryDirectory(prefix="fdbench-ann-")
    url = (await pg_recreate()) if database == "postgres" else (
        f"sqlite+aiosqlite:///{Path(folder.name) / 'announce.db'}"
    )
    tg = await start_fake()
    app = None
    try:
        await prepare_database(url)
        from storage.engine import make_engine

        engine = make_engine(url)
        try:
            await seed_residents(engine, residents)
        finally:
            await engine.dispose()
        for i in range(1, residents + 1):
            tg.add_user(RESIDENT_BASE + i, f"Resident {i}")
        tg.rate_limits(enabled=True, private_per_second=1.0, group_per_minute=20, global_per_second=30)

        arrivals: list[float] = []
        original = tg._handlers["sendMessage"]

        def record(params: dict[str, Any], uploads: dict[str, Any]) -> Any:
            answer = original(params, uploads)
            if int(params.get("chat_id", 0)) > RESIDENT_BASE:
                arrivals.append(time.monotonic())
            return answer

        tg._handlers["sendMessage"] = record
        settings = Settings(
            _env_file=None,
            bot_token=TOKEN,
            bot_api_url=tg.base_url,
            database_url=url,
            send_global_per_second=30,  # the production defaults, stated
            send_private_interval=1.0,
            send_group_interval=3.0,
        )
        app = build_app(settings, clock=ShiftedClock())
        draft = Draft(
            audience="all", building_ids=[], flats=[],
            text="Water will be off on Tuesday from 10:00 to 12:00 for maintenance. <Sorry> & thanks!",
            photo=None, urgent=False, send_at=None,
        )
        started = time.monotonic()
        queued = await app.services.announcements.queue(MANAGER_ID, MANAGER_ID, draft)
        result.queue_seconds = time.monotonic() - started
        if not queued.ok or queued.recipients != residents:
            raise RuntimeError(f"queue refused or short: {queued}")
        if queue_only:
            async with app.sessions() as session:
                result.pending_rows = int(
                    await session.scalar(select(func.count()).select_from(Outbox)) or 0
                )
            result.queue_only = True
            return result
        limit = limit if limit is not None else residents / 30 * 3 + 60
        await asyncio.wait_for(app.sender.run_until_idle(), limit)
        result.total_seconds = (arrivals[-1] if arrivals else time.monotonic()) - started
        result.first_send_after = (arrivals[0] - started) if arrivals else float("nan")
        result.delivered = len(arrivals)
        result.rate_limit_429 = tg.rate_limit_violations
        if len(arrivals) > 10:
            lo, hi = arrivals[len(arrivals) // 10], arrivals[len(arrivals) * 9 // 10]
            result.steady_rate = (len(arrivals) * 8 // 10) / max(1e-9, hi - lo)
        async with app.sessions() as session:
            rows = dict(
                (await session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))).all()
            )
        result.failed_rows = int(rows.get("failed", 0))
        result.pending_rows = int(rows.get("pending", 0))
    except Exception as error:
        result.failed = f"{type(error).__name__}: {error}"
    finally:
        if app is not None:
            await app.close()
        await tg.stop()
        if database == "postgres":
            await pg_drop()
        folder.cleanup()
    return result


def describe(r: AnnounceResult) -> str:
    if r.failed:
        return f"announcement to {r.residents:,}: FAILED {r.failed}"
    if r.queue_only:
        return (
            f"announcement to {r.residents:,} ({r.database}): queued in {r.queue_seconds:.2f} s "
            f"({r.pending_rows:,} outbox rows; delivery not run)"
        )
    return (
        f"announcement to {r.residents:,} ({r.database}): queued in {r.queue_seconds:.2f} s, "
        f"last delivered after {r.total_seconds:.1f} s (floor {r.floor:.1f} s, x{r.ratio:.3f}); "
        f"steady {r.steady_rate:.2f} msg/s; first after {r.first_send_after:.2f} s; "
        f"delivered {r.delivered:,}; 429s {r.rate_limit_429}; failed rows {r.failed_rows}; "
        f"pending {r.pending_rows}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--queue-only", action="store_true", help="time the queueing only")
    args = parser.parse_args()
    print(describe(asyncio.run(
        run_announcement(args.residents, args.db, queue_only=args.queue_only)
    )))


if __name__ == "__main__":
    main()
