from bot.domain.lifecycle import Actor
from bot.domain.permissions import Role, StaffView, resident_actors, staff_actors


def view(role: Role, departments: set[int], active: bool = True, staff_id: int = 7) -> StaffView:
    return StaffView(staff_id=staff_id, role=role, department_ids=frozenset(departments), active=active)


def test_technician_of_the_department_and_claimant() -> None:
    assert staff_actors(view(Role.TECHNICIAN, {1}), 1, None) == {Actor.DEPARTMENT}
    assert staff_actors(view(Role.TECHNICIAN, {1}), 1, 7) == {Actor.DEPARTMENT, Actor.CLAIMANT}
    assert staff_actors(view(Role.TECHNICIAN, {2}), 1, None) == frozenset()


def test_leads_and_inactive_staff() -> None:
    assert staff_actors(view(Role.DISPATCHER, set()), 1, None) == {Actor.DISPATCHER}
    assert staff_actors(view(Role.MANAGER, set()), 1, None) == {Actor.MANAGER, Actor.DISPATCHER}
    assert staff_actors(view(Role.ADMIN, set()), 1, None) == {Actor.MANAGER, Actor.DISPATCHER}
    assert staff_actors(view(Role.MANAGER, {1}, active=False), 1, 7) == frozenset()
    assert staff_actors(None, 1, None) == frozenset()


def test_resident_is_only_the_owner() -> None:
    assert resident_actors(5, 5) == {Actor.RESIDENT}
    assert resident_actors(5, 6) == frozenset()
    assert resident_actors(None, None) == frozenset()
