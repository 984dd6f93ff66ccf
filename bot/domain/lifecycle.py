"""The ticket lifecycle: kinds × statuses × events × who may trigger them, in one table."""

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.kinds import TicketKind


class Status(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    ON_THE_WAY = "on_the_way"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    RESOLVED = "resolved"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    CLOSED = "closed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def is_open(self) -> bool:
        return self not in FINAL_STATUSES


FINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.CANCELLED})
AWAITING_CONFIRMATION = frozenset({Status.RESOLVED, Status.ANSWERED})
WORK_STARTED = frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.ANSWERED})


class Event(StrEnum):
    CLAIM = "claim"
    ASSIGN = "assign"
    ON_MY_WAY = "on_my_way"
    START_WORK = "start_work"
    HOLD = "hold"
    RESUME = "resume"
    DONE = "done"
    RELEASE = "release"
    ACKNOWLEDGE = "acknowledge"
    ANSWER = "answer"
    REJECT = "reject"
    CANCEL = "cancel"
    CONFIRM = "confirm"
    REOPEN = "reopen"
    REOPEN_TO_QUEUE = "reopen_to_queue"
    AUTO_CLOSE = "auto_close"
    CLOSE = "close"


class Actor(StrEnum):
    """Who someone is in relation to one ticket (a person may be several at once)."""

    RESIDENT = "resident"  # the resident who filed it
    DEPARTMENT = "department"  # active staff of the ticket's department
    CLAIMANT = "claimant"  # the staff member the ticket is assigned to
    DISPATCHER = "dispatcher"
    MANAGER = "manager"  # manager or admin
    SYSTEM = "system"  # the clock


class Family(StrEnum):
    """Repairs are worked on site; every other kind is answered in writing."""

    REPAIR = "repair"
    ENQUIRY = "enquiry"


def family_of(kind: TicketKind) -> Family:
    return Family.REPAIR if kind is TicketKind.REPAIR else Family.ENQUIRY


@dataclass(frozen=True)
class Transition:
    to: Status
    actors: frozenset[Actor]


S = Status
E = Event
A = Actor
_STAFF_LEAD = frozenset({A.CLAIMANT, A.DISPATCHER, A.MANAGER})
_LEADS = frozenset({A.DISPATCHER, A.MANAGER})
_CLAIMERS = frozenset({A.DEPARTMENT, A.DISPATCHER, A.MANAGER})
_WORKING = (S.CLAIMED, S.ON_THE_WAY, S.IN_PROGRESS, S.ON_HOLD)


def _rows(
    family: Family, froms: tuple[Status, ...], event: Event, to: Status, actors: frozenset[Actor]
) -> dict[tuple[Family, Status, Event], Transition]:
    return {(family, f, event): Transition(to, actors) for f in froms}


def _build() -> dict[tuple[Family, Status, Event], Transition]:
    r, q = Family.REPAIR, Family.ENQUIRY
    table: dict[tuple[Family, Status, Event], Transition] = {}
    rows = [
        # repairs
        _rows(r, (S.NEW,), E.CLAIM, S.CLAIMED, _CLAIMERS),
        _rows(r, (S.NEW, *_WORKING), E.ASSIGN, S.CLAIMED, _LEADS),
        _rows(r, (S.CLAIMED,), E.ON_MY_WAY, S.ON_THE_WAY, _STAFF_LEAD),
        _rows(r, (S.CLAIMED, S.ON_THE_WAY, S.ON_HOLD), E.START_WORK, S.IN_PROGRESS, _STAFF_LEAD),
        _rows(r, (S.CLAIMED, S.ON_THE_WAY, S.IN_PROGRESS), E.HOLD, S.ON_HOLD, _STAFF_LEAD),
        _rows(r, (S.ON_HOLD,), E.RESUME, S.CLAIMED, _STAFF_LEAD | {A.SYSTEM}),
        _rows(r, _WORKING, E.DONE, S.RESOLVED, _STAFF_LEAD),
        _rows(r, _WORKING, E.RELEASE, S.NEW, _STAFF_LEAD),
        _rows(r, (S.NEW, S.CLAIMED), E.REJECT, S.REJECTED, _LEADS),
        _rows(r, (S.NEW, S.CLAIMED, S.ON_THE_WAY), E.CANCEL, S.CANCELLED, frozenset({A.RESIDENT})),
        _rows(r, (S.RESOLVED,), E.CONFIRM, S.CLOSED, frozenset({A.RESIDENT})),
        _rows(r, (S.RESOLVED,), E.REOPEN, S.CLAIMED, frozenset({A.RESIDENT, A.MANAGER})),
        _rows(r, (S.RESOLVED,), E.REOPEN_TO_QUEUE, S.NEW, frozenset({A.RESIDENT, A.MANAGER})),
        _rows(
            r, (S.CLOSED, S.REJECTED, S.CANCELLED), E.REOPEN_TO_QUEUE, S.NEW, frozenset({A.MANAGER})
        ),
        _rows(r, (S.RESOLVED,), E.AUTO_CLOSE, S.CLOSED, frozenset({A.SYSTEM})),
        _rows(r, (S.NEW, *_WORKING, S.RESOLVED), E.CLOSE, S.CLOSED, frozenset({A.MANAGER})),
        # complaints, suggestions, questions, praise
        _rows(q, (S.NEW,), E.ACKNOWLEDGE, S.ACKNOWLEDGED, _CLAIMERS),
        _rows(q, (S.NEW, S.ACKNOWLEDGED), E.ASSIGN, S.ACKNOWLEDGED, _LEADS),
        _rows(q, (S.NEW, S.ACKNOWLEDGED), E.ANSWER, S.ANSWERED, _CLAIMERS | {A.CLAIMANT}),
        _rows(q, (S.ACKNOWLEDGED,), E.RELEASE, S.NEW, _STAFF_LEAD),
        _rows(q, (S.NEW, S.ACKNOWLEDGED), E.REJECT, S.REJECTED, _LEADS),
        _rows(q, (S.NEW, S.ACKNOWLEDGED), E.CANCEL, S.CANCELLED, frozenset({A.RESIDENT})),
        _rows(q, (S.ANSWERED,), E.CONFIRM, S.CLOSED, frozenset({A.RESIDENT})),
        _rows(q, (S.ANSWERED,), E.REOPEN, S.ACKNOWLEDGED, frozenset({A.RESIDENT, A.MANAGER})),
        _rows(
            q, (S.CLOSED, S.REJECTED, S.CANCELLED), E.REOPEN_TO_QUEUE, S.NEW, frozenset({A.MANAGER})
        ),
        _rows(q, (S.ANSWERED,), E.AUTO_CLOSE, S.CLOSED, frozenset({A.SYSTEM})),
        _rows(q, (S.NEW, S.ACKNOWLEDGED, S.ANSWERED), E.CLOSE, S.CLOSED, frozenset({A.MANAGER})),
    ]
    for chunk in rows:
        table.update(chunk)
    return table


TRANSITIONS: dict[tuple[Family, Status, Event], Transition] = _build()


class TransitionError(Exception):
    """The event is not possible in the ticket's status, or not for this actor."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def find_transition(kind: TicketKind, status: Status, event: Event) -> Transition | None:
    return TRANSITIONS.get((family_of(kind), status, event))


def check_transition(
    kind: TicketKind, status: Status, event: Event, actors: frozenset[Actor]
) -> Status:
    """Return the status the event leads to, or raise ``TransitionError`` saying why not."""
    transition = find_transition(kind, status, event)
    if transition is None:
        raise TransitionError("wrong_status")
    if not (transition.actors & actors):
        raise TransitionError("not_allowed")
    return transition.to


def allowed_events(kind: TicketKind, status: Status, actors: frozenset[Actor]) -> list[Event]:
    """Events this actor may trigger now, in the order of ``Event``."""
    family = family_of(kind)
    return [
        event
        for event in Event
        if (t := TRANSITIONS.get((family, status, event))) is not None and t.actors & actors
    ]
