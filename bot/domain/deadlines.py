"""Service standards and the deadlines of the escalation ladder they imply."""

from dataclasses import dataclass
from datetime import datetime

from bot.domain.calendar import WorkCalendar, require_aware
from bot.domain.kinds import TicketKind
from bot.domain.spans import Span, parse_span


@dataclass(frozen=True)
class Standard:
    """How long staff have to claim, reach the site and resolve a request; ``None`` = no limit."""

    claim: Span | None = None
    on_site: Span | None = None
    resolve: Span | None = None


@dataclass(frozen=True)
class Deadlines:
    """All UTC; ``None`` where the standard sets no limit."""

    claim_due: datetime | None
    claim_remind_at: datetime | None
    on_site_due: datetime | None
    resolve_due: datetime | None


DEFAULT_STANDARDS: dict[str, Standard] = {
    "repair_emergency": Standard(
        claim=parse_span("5m"), on_site=parse_span("15m"), resolve=parse_span("4h")
    ),
    "repair_normal": Standard(claim=parse_span("30m"), resolve=parse_span("72h")),
    "repair_simple": Standard(claim=parse_span("30m"), resolve=parse_span("2h")),
    "complaint": Standard(claim=parse_span("4h"), resolve=parse_span("4wd")),
    "suggestion": Standard(claim=parse_span("1wd"), resolve=parse_span("5wd")),
    "question": Standard(claim=parse_span("1wd"), resolve=parse_span("5wd")),
    "praise": Standard(claim=parse_span("1wd")),
}


def standard_key(kind: TicketKind, emergency: bool, simple: bool) -> str:
    """Key into the standards: repairs split by urgency (emergency wins over simple); the flags
    are ignored for other kinds, whose key is the kind itself."""
    if not kind.is_repair:
        return kind.value
    if emergency:
        return "repair_emergency"
    if simple:
        return "repair_simple"
    return "repair_normal"


def compute_deadlines(
    registered_at: datetime, standard: Standard, calendar: WorkCalendar
) -> Deadlines:
    """The reminder to claim falls halfway, in real time, between registration and the claim
    deadline: half the span for elapsed spans, and for working-day spans half of however much
    real time the working days take (including nights and weekends in between)."""
    registered = require_aware(registered_at, "registered_at")
    claim_due = _due(registered, standard.claim, calendar)
    remind = None if claim_due is None else registered + (claim_due - registered) / 2
    return Deadlines(
        claim_due=claim_due,
        claim_remind_at=remind,
        on_site_due=_due(registered, standard.on_site, calendar),
        resolve_due=_due(registered, standard.resolve, calendar),
    )


def _due(registered: datetime, span: Span | None, calendar: WorkCalendar) -> datetime | None:
    return None if span is None else calendar.due(registered, span)
