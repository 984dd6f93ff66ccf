"""The whole transition table, checked against an independent statement of the rules."""

import itertools

import pytest

from bot.domain.kinds import TicketKind
from bot.domain.lifecycle import (
    Actor,
    Event,
    Status,
    TransitionError,
    allowed_events,
    check_transition,
)

A, E, S = Actor, Event, Status
STAFF_LEAD = {A.CLAIMANT, A.DISPATCHER, A.MANAGER}
LEADS = {A.DISPATCHER, A.MANAGER}
CLAIMERS = {A.DEPARTMENT, A.DISPATCHER, A.MANAGER}
WORKING = {S.CLAIMED, S.ON_THE_WAY, S.IN_PROGRESS, S.ON_HOLD}
REOPENABLE = {S.CLOSED, S.REJECTED, S.CANCELLED}

# (event) -> (statuses it applies in, where it leads, who may trigger it), written out by hand
# from the regulations, independently of the table in the domain.
REPAIR_RULES: dict[Event, list[tuple[set[Status], Status, set[Actor]]]] = {
    E.CLAIM: [({S.NEW}, S.CLAIMED, CLAIMERS)],
    E.ASSIGN: [({S.NEW} | WORKING, S.CLAIMED, LEADS)],
    E.ON_MY_WAY: [({S.CLAIMED}, S.ON_THE_WAY, STAFF_LEAD)],
    E.START_WORK: [({S.CLAIMED, S.ON_THE_WAY, S.ON_HOLD}, S.IN_PROGRESS, STAFF_LEAD)],
    E.HOLD: [({S.CLAIMED, S.ON_THE_WAY, S.IN_PROGRESS}, S.ON_HOLD, STAFF_LEAD)],
    E.RESUME: [({S.ON_HOLD}, S.CLAIMED, STAFF_LEAD | {A.SYSTEM})],
    E.DONE: [(WORKING, S.RESOLVED, STAFF_LEAD)],
    E.RELEASE: [(WORKING, S.NEW, STAFF_LEAD)],
    E.REJECT: [({S.NEW, S.CLAIMED}, S.REJECTED, LEADS)],
    E.CANCEL: [({S.NEW, S.CLAIMED, S.ON_THE_WAY}, S.CANCELLED, {A.RESIDENT})],
    E.CONFIRM: [({S.RESOLVED}, S.CLOSED, {A.RESIDENT})],
    E.REOPEN: [({S.RESOLVED}, S.CLAIMED, {A.RESIDENT, A.MANAGER})],
    E.REOPEN_TO_QUEUE: [
        ({S.RESOLVED}, S.NEW, {A.RESIDENT, A.MANAGER}),
        (REOPENABLE, S.NEW, {A.MANAGER}),
    ],
    E.AUTO_CLOSE: [({S.RESOLVED}, S.CLOSED, {A.SYSTEM})],
    E.CLOSE: [({S.NEW, S.RESOLVED} | WORKING, S.CLOSED, {A.MANAGER})],
}
ENQUIRY_RULES: dict[Event, list[tuple[set[Status], Status, set[Actor]]]] = {
    E.ACKNOWLEDGE: [({S.NEW}, S.ACKNOWLEDGED, CLAIMERS)],
    E.ASSIGN: [({S.NEW, S.ACKNOWLEDGED}, S.ACKNOWLEDGED, LEADS)],
    E.ANSWER: [({S.NEW, S.ACKNOWLEDGED}, S.ANSWERED, CLAIMERS | {A.CLAIMANT})],
    E.RELEASE: [({S.ACKNOWLEDGED}, S.NEW, STAFF_LEAD)],
    E.REJECT: [({S.NEW, S.ACKNOWLEDGED}, S.REJECTED, LEADS)],
    E.CANCEL: [({S.NEW, S.ACKNOWLEDGED}, S.CANCELLED, {A.RESIDENT})],
    E.CONFIRM: [({S.ANSWERED}, S.CLOSED, {A.RESIDENT})],
    E.REOPEN: [({S.ANSWERED}, S.ACKNOWLEDGED, {A.RESIDENT, A.MANAGER})],
    E.REOPEN_TO_QUEUE: [(REOPENABLE, S.NEW, {A.MANAGER})],
    E.AUTO_CLOSE: [({S.ANSWERED}, S.CLOSED, {A.SYSTEM})],
    E.CLOSE: [({S.NEW, S.ACKNOWLEDGED, S.ANSWERED}, S.CLOSED, {A.MANAGER})],
}


def expected(kind: TicketKind, status: Status, event: Event, actor: Actor) -> Status | None:
    rules = REPAIR_RULES if kind is TicketKind.REPAIR else ENQUIRY_RULES
    for statuses, to, actors in rules.get(event, []):
        if status in statuses and actor in actors:
            return to
    return None


@pytest.mark.parametrize("kind", list(TicketKind))
def test_every_combination_of_status_event_and_actor(kind: TicketKind) -> None:
    checked = 0
    for status, event, actor in itertools.product(Status, Event, Actor):
        want = expected(kind, status, event, actor)
        if want is None:
            with pytest.raises(TransitionError):
                check_transition(kind, status, event, frozenset({actor}))
        else:
            assert check_transition(kind, status, event, frozenset({actor})) is want
        checked += 1
    assert checked == len(Status) * len(Event) * len(Actor)


def test_refusals_say_whether_the_status_or_the_actor_is_wrong() -> None:
    with pytest.raises(TransitionError) as status_error:
        check_transition(TicketKind.REPAIR, S.CLOSED, E.CLAIM, frozenset({A.DEPARTMENT}))
    assert status_error.value.reason == "wrong_status"
    with pytest.raises(TransitionError) as actor_error:
        check_transition(TicketKind.REPAIR, S.NEW, E.CLAIM, frozenset({A.RESIDENT}))
    assert actor_error.value.reason == "not_allowed"


def test_final_statuses_allow_nothing_but_a_managers_reopen() -> None:
    for kind, status in itertools.product(TicketKind, (S.CLOSED, S.REJECTED, S.CANCELLED)):
        everyone = frozenset(Actor)
        assert allowed_events(kind, status, everyone) == [E.REOPEN_TO_QUEUE]
        assert status.is_final and not status.is_open


def test_a_claimant_sees_the_buttons_of_their_work() -> None:
    actors = frozenset({A.DEPARTMENT, A.CLAIMANT})
    assert allowed_events(TicketKind.REPAIR, S.CLAIMED, actors) == [
        E.ON_MY_WAY, E.START_WORK, E.HOLD, E.DONE, E.RELEASE,
    ]
