"""Use cases: one transaction each, the only writers of ticket state."""

from dataclasses import dataclass

from bot.services.base import ServiceDeps
from bot.services.residents import ResidentService
from bot.services.staff import StaffService
from bot.services.tickets import TicketService
from bot.services.updates import UpdateLog


@dataclass
class Services:
    deps: ServiceDeps
    tickets: TicketService
    residents: ResidentService
    staff: StaffService
    updates: UpdateLog

    @classmethod
    def build(cls, deps: ServiceDeps) -> "Services":
        return cls(
            deps, TicketService(deps), ResidentService(deps), StaffService(deps), UpdateLog(deps)
        )
