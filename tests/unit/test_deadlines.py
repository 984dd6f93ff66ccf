from datetime import UTC, datetime

import pytest

from bot.domain.calendar import WorkCalendar
from bot.domain.deadlines import (
    DEFAULT_STANDARDS,
    Deadlines,
    Standard,
    compute_deadlines,
    standard_key,
)
from bot.domain.kinds import TicketKind
from bot.domain.spans import Span


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


CALENDAR = WorkCalendar.from_config(
    "Europe/London", ["mon", "tue", "wed", "thu", "fri"], "09:00-18:00", ["2026-04-03"]
)
TUESDAY_10 = utc(2026, 3, 3, 10)  # 10:00 GMT, a working morning


def deadlines(key: str, registered_at: datetime = TUESDAY_10) -> Deadlines:
    return compute_deadlines(registered_at, DEFAULT_STANDARDS[key], CALENDAR)


def test_default_standards() -> None:
    assert DEFAULT_STANDARDS == {
        "repair_emergency": Standard(
            claim=Span(seconds=300), on_site=Span(seconds=900), resolve=Span(seconds=14400)
        ),
        "repair_normal": Standard(claim=Span(seconds=1800), resolve=Span(seconds=259200)),
        "repair_simple": Standard(claim=Span(seconds=1800), resolve=Span(seconds=7200)),
        "complaint": Standard(claim=Span(seconds=14400), resolve=Span(working_days=4)),
        "suggestion": Standard(claim=Span(working_days=1), resolve=Span(working_days=5)),
        "question": Standard(claim=Span(working_days=1), resolve=Span(working_days=5)),
        "praise": Standard(claim=Span(working_days=1)),
    }


def test_repair_emergency() -> None:
    assert deadlines("repair_emergency") == Deadlines(
        claim_due=utc(2026, 3, 3, 10, 5),
        claim_remind_at=utc(2026, 3, 3, 10, 2, 30),
        on_site_due=utc(2026, 3, 3, 10, 15),
        resolve_due=utc(2026, 3, 3, 14),
    )


def test_repair_normal() -> None:
    assert deadlines("repair_normal") == Deadlines(
        claim_due=utc(2026, 3, 3, 10, 30),
        claim_remind_at=utc(2026, 3, 3, 10, 15),
        on_site_due=None,
        resolve_due=utc(2026, 3, 6, 10),
    )


def test_repair_simple() -> None:
    assert deadlines("repair_simple") == Deadlines(
        claim_due=utc(2026, 3, 3, 10, 30),
        claim_remind_at=utc(2026, 3, 3, 10, 15),
        on_site_due=None,
        resolve_due=utc(2026, 3, 3, 12),
    )


def test_complaint() -> None:
    assert deadlines("complaint") == Deadlines(
        claim_due=utc(2026, 3, 3, 14),
        claim_remind_at=utc(2026, 3, 3, 12),
        on_site_due=None,
        resolve_due=utc(2026, 3, 9, 10),  # Wed, Thu, Fri, Mon
    )


@pytest.mark.parametrize("key", ["suggestion", "question"])
def test_suggestion_and_question(key: str) -> None:
    assert deadlines(key) == Deadlines(
        claim_due=utc(2026, 3, 4, 10),
        claim_remind_at=utc(2026, 3, 3, 22),  # halfway in real time
        on_site_due=None,
        resolve_due=utc(2026, 3, 10, 10),
    )


def test_praise() -> None:
    assert deadlines("praise") == Deadlines(
        claim_due=utc(2026, 3, 4, 10),
        claim_remind_at=utc(2026, 3, 3, 22),
        on_site_due=None,
        resolve_due=None,
    )


def test_working_day_reminder_is_halfway_over_a_weekend() -> None:
    # Friday 17:00 -> claim by Monday 17:00; 72 real hours, so remind after 36.
    result = deadlines("question", utc(2026, 3, 6, 17))
    assert result.claim_due == utc(2026, 3, 9, 17)
    assert result.claim_remind_at == utc(2026, 3, 8, 5)
    assert result.resolve_due == utc(2026, 3, 13, 17)


def test_registered_on_a_saturday() -> None:
    # Rolls to Monday 09:00, so one working day is Tuesday 09:00: 71 hours, remind after 35.5.
    result = deadlines("suggestion", utc(2026, 3, 7, 10))
    assert result.claim_due == utc(2026, 3, 10, 9)
    assert result.claim_remind_at == utc(2026, 3, 8, 21, 30)
    assert result.resolve_due == utc(2026, 3, 16, 9)


def test_complaint_resolution_across_a_holiday_and_dst() -> None:
    # Tuesday 31 March 10:00 BST + 4 working days skipping Good Friday = Tuesday 7 April.
    result = deadlines("complaint", utc(2026, 3, 31, 9))
    assert result.claim_due == utc(2026, 3, 31, 13)
    assert result.resolve_due == utc(2026, 4, 7, 9)


def test_elapsed_deadlines_are_real_time_through_the_dst_night() -> None:
    # 00:58 GMT on 29 March; clocks jump at 01:00 UTC, but 15 minutes are still 15 minutes.
    result = deadlines("repair_emergency", utc(2026, 3, 29, 0, 58))
    assert result.on_site_due == utc(2026, 3, 29, 1, 13)
    assert result.resolve_due == utc(2026, 3, 29, 4, 58)


def test_a_standard_without_limits() -> None:
    assert compute_deadlines(TUESDAY_10, Standard(), CALENDAR) == Deadlines(None, None, None, None)


def test_naive_registration_is_rejected() -> None:
    with pytest.raises(ValueError, match="registered_at must be timezone-aware"):
        compute_deadlines(datetime(2026, 3, 3, 10), DEFAULT_STANDARDS["complaint"], CALENDAR)


def test_results_are_utc() -> None:
    result = deadlines("repair_emergency")
    assert result.claim_due is not None and result.claim_due.tzinfo is UTC
    assert result.claim_remind_at is not None and result.claim_remind_at.tzinfo is UTC


@pytest.mark.parametrize(
    ("kind", "emergency", "simple", "key"),
    [
        (TicketKind.REPAIR, True, False, "repair_emergency"),
        (TicketKind.REPAIR, True, True, "repair_emergency"),
        (TicketKind.REPAIR, False, True, "repair_simple"),
        (TicketKind.REPAIR, False, False, "repair_normal"),
        (TicketKind.COMPLAINT, False, False, "complaint"),
        (TicketKind.COMPLAINT, True, True, "complaint"),
        (TicketKind.SUGGESTION, False, False, "suggestion"),
        (TicketKind.QUESTION, False, False, "question"),
        (TicketKind.PRAISE, False, True, "praise"),
    ],
)
def test_standard_key(kind: TicketKind, emergency: bool, simple: bool, key: str) -> None:
    assert standard_key(kind, emergency, simple) == key


def test_every_kind_has_a_default_standard() -> None:
    for kind in TicketKind:
        for emergency in (False, True):
            for simple in (False, True):
                assert standard_key(kind, emergency, simple) in DEFAULT_STANDARDS
