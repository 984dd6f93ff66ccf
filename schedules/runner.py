"""APScheduler wiring: one AsyncIOScheduler ticking the jobs; the database holds every deadline,
so a restart loses nothing and a missed tick is simply caught up by the next one."""

from collections.abc import Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.services import Services
from bot.services.clock import SweepReport
from schedules import jobs


def make_scheduler(
    services: Services,
    tick_seconds: float,
    after_tick: Callable[[], None],
    on_report: Callable[[SweepReport], None] = lambda _report: None,
) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def tick() -> None:
        on_report(await jobs.tick(services))
        after_tick()

    async def housekeeping() -> None:
        await jobs.housekeeping(services)

    scheduler.add_job(
        tick, "interval", seconds=tick_seconds, id="tick", max_instances=1, coalesce=True
    )
    scheduler.add_job(
        housekeeping, "interval", hours=6, id="housekeeping", max_instances=1, coalesce=True
    )
    return scheduler
