"""The scheduler wiring: one tick runs every job and reports what the sweep did."""

from datetime import UTC, datetime
from typing import Any

from bot.services.clock import SweepReport
from schedules.runner import make_scheduler


class FakeServices:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.clock = self
        self.digests = self
        self.announcements = self
        self.updates = self

    async def sweep(self) -> SweepReport:
        self.calls.append("sweep")
        return SweepReport({"claim_overdue": 2})

    async def send_due(self) -> int:
        self.calls.append("digest")
        return 0

    async def report_finished(self) -> int:
        self.calls.append("reports")
        return 0

    async def forget_older_than(self, days: int) -> None:
        self.calls.append("housekeeping")


async def test_one_tick_runs_every_job_and_reports() -> None:
    services = FakeServices()
    reports: list[SweepReport] = []
    kicks: list[datetime] = []
    scheduler = make_scheduler(services, 30, lambda: kicks.append(datetime.now(UTC)), reports.append)  # type: ignore[arg-type]
    tick: Any = scheduler.get_job("tick").func
    await tick()
    assert services.calls == ["sweep", "digest", "reports"]
    assert reports[0].counts == {"claim_overdue": 2} and len(kicks) == 1
    assert scheduler.get_job("housekeeping") is not None
