"""In-process probe: transactions and CPU per update for a resident mix (the bench's mix, small).

    python -m bench.txprobe [--rounds 40] [--db sqlite|postgresql+asyncpg://…]

Feeds updates through the real dispatcher against the emulator, counts transactions (SQLAlchemy
``begin`` events) per update type, and the process CPU time per update. Not a throughput figure
(the emulator runs in the same process); a before/after gauge for the hot path.
"""

import argparse
import asyncio
import collections
import tempfile
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from bot.emulator.server import FakeTelegram
from storage.migrate import upgrade_engine
from tests.conftest import drop_isolated, isolated_engine
from tests.e2e.harness import make_stack


async def main(rounds: int, db: str) -> None:
    url = db if db != "sqlite" else f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/probe.db"
    engine = await isolated_engine(url)  # PostgreSQL: a schema of its own, dropped at the end
    await upgrade_engine(engine)
    begins = 0

    @event.listens_for(engine.sync_engine, "begin")
    def _count(_connection: object) -> None:
        nonlocal begins
        begins += 1

    async with FakeTelegram() as tg:
        stack = await make_stack(tg, engine)
        try:
            await probe(stack, rounds, lambda: begins)
        finally:  # an aiosqlite connection left open keeps the interpreter from exiting
            await stack.app.bot.session.close()
            await drop_isolated(engine)


async def probe(stack: Any, rounds: int, begun: Callable[[], int]) -> None:
    alice = await stack.register("alice")
    await stack.file_quick(alice, "drip")
    await stack.staff("sam")
    stats: dict[str, list[float]] = collections.defaultdict(lambda: [0, 0.0, 0])
    kinds = {
        "/help": lambda: alice.command("help"),
        "/my": lambda: alice.command("my"),
        "text": lambda: alice.text("hello there"),
    }
    for _ in range(rounds):
        for name, make in kinds.items():
            update = make()
            before, cpu = begun(), time.process_time()
            await stack.app.dispatcher.feed_raw_update(stack.app.bot, update)
            await asyncio.sleep(0)
            row = stats[name]
            row[0] += begun() - before
            row[1] += time.process_time() - cpu
            row[2] += 1
        # the new-request dialog, as one "update type" per step
        before, cpu = begun(), time.process_time()
        await stack.file_repair(alice)
        row = stats["dialog (8 updates)"]
        row[0] += begun() - before
        row[1] += time.process_time() - cpu
        row[2] += 8
    print(f"{'update':<22}{'tx/update':>10}{'CPU ms/update':>15}")
    for name, (tx, cpu_s, n) in stats.items():
        print(f"{name:<22}{tx / n:>10.2f}{cpu_s * 1000 / n:>15.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    # More than 60 rounds exceed the estate's open-request limit (60 per resident).
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--db", default="sqlite")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.db))
