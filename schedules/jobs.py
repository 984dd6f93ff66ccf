"""The jobs. Each is a plain coroutine over the services, so tests call it with a fake clock."""

import logging

from bot.services import Services
from bot.services.clock import SweepReport

log = logging.getLogger(__name__)


async def sweep(services: Services) -> SweepReport:
    """Escalations, reminders, auto-close, polls: whatever is due now."""
    report = await services.clock.sweep()
    if report.counts:
        log.info("clock sweep: %s", report.counts)
    return report


async def announcement_reports(services: Services) -> int:
    return await services.announcements.report_finished()


async def digest(services: Services) -> int:
    """The managers' daily digest (and Monday's weekly summary) when its local hour has come."""
    return await services.digests.send_due()


async def tick(services: Services) -> SweepReport:
    """Everything the scheduler does on each tick, in order."""
    report = await sweep(services)
    await digest(services)
    await announcement_reports(services)
    return report


async def housekeeping(services: Services) -> None:
    await services.updates.forget_older_than(days=7)
