"""Who someone is, in relation to one ticket."""

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.lifecycle import Actor


class Role(StrEnum):
    TECHNICIAN = "technician"
    DISPATCHER = "dispatcher"
    MANAGER = "manager"
    ADMIN = "admin"

    @property
    def manages(self) -> bool:
        return self in (Role.MANAGER, Role.ADMIN)


@dataclass(frozen=True)
class StaffView:
    staff_id: int
    role: Role
    department_ids: frozenset[int]
    active: bool


def staff_actors(
    staff: StaffView | None, department_id: int, assignee_id: int | None
) -> frozenset[Actor]:
    """The actor roles a staff member holds on a ticket of ``department_id``."""
    if staff is None or not staff.active:
        return frozenset()
    actors: set[Actor] = set()
    if department_id in staff.department_ids:
        actors.add(Actor.DEPARTMENT)
    if assignee_id is not None and assignee_id == staff.staff_id:
        actors.add(Actor.CLAIMANT)
    if staff.role is Role.DISPATCHER:
        actors.add(Actor.DISPATCHER)
    if staff.role.manages:
        actors.update((Actor.MANAGER, Actor.DISPATCHER))
    return frozenset(actors)


def resident_actors(resident_id: int | None, ticket_resident_id: int | None) -> frozenset[Actor]:
    if resident_id is not None and resident_id == ticket_resident_id:
        return frozenset({Actor.RESIDENT})
    return frozenset()
