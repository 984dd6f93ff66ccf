"""Use cases: one transaction each, the only writers of ticket state."""

from dataclasses import dataclass

from bot.services.announcements import AnnouncementService
from bot.services.base import ServiceDeps
from bot.services.clock import ClockService
from bot.services.console import ConsoleService
from bot.services.digests import DigestService
from bot.services.feedback import FeedbackService
from bot.services.reachability import ReachabilityService
from bot.services.reports import ReportService
from bot.services.residents import ResidentService
from bot.services.staff import StaffService
from bot.services.stats import StatsService
from bot.services.tickets import TicketService
from bot.services.updates import UpdateLog


@dataclass
class Services:
    deps: ServiceDeps
    tickets: TicketService
    residents: ResidentService
    staff: StaffService
    updates: UpdateLog
    clock: ClockService
    feedback: FeedbackService
    digests: DigestService
    reachability: ReachabilityService
    announcements: AnnouncementService
    console: ConsoleService
    stats: StatsService
    reports: ReportService

    @classmethod
    def build(cls, deps: ServiceDeps) -> "Services":
        tickets = TicketService(deps)
        return cls(
            deps,
            tickets,
            ResidentService(deps),
            StaffService(deps),
            UpdateLog(deps),
            ClockService(deps, tickets),
            FeedbackService(deps),
            DigestService(deps),
            ReachabilityService(deps, tickets),
            AnnouncementService(deps),
            ConsoleService(deps, tickets, ResidentService(deps)),
            StatsService(deps),
            ReportService(deps),
        )
