from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import WorkCalendar
from bot.domain.spans import Span

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
# Good Friday, Easter Monday, Christmas, Boxing Day (substitute) 2026.
UK_HOLIDAYS = ["2026-04-03", "2026-04-06", "2026-12-25", "2026-12-28"]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def london() -> WorkCalendar:
    return WorkCalendar.from_config("Europe/London", WEEKDAYS, "09:00-18:00", UK_HOLIDAYS)


def new_york() -> WorkCalendar:
    return WorkCalendar.from_config("America/New_York", WEEKDAYS, "09:00-17:00", [])


def every_day_new_york() -> WorkCalendar:
    every_day = [*WEEKDAYS, "sat", "sun"]
    return WorkCalendar.from_config("America/New_York", every_day, "00:00-23:59", [])


# --- configuration ---------------------------------------------------------------------------


def test_from_config_builds_the_calendar() -> None:
    assert london() == WorkCalendar(
        tz=LONDON,
        weekdays=frozenset({0, 1, 2, 3, 4}),
        opens=time(9),
        closes=time(18),
        holidays=frozenset(
            {date(2026, 4, 3), date(2026, 4, 6), date(2026, 12, 25), date(2026, 12, 28)}
        ),
    )


def test_from_config_accepts_full_names_any_case_and_date_objects() -> None:
    calendar = WorkCalendar.from_config(
        "Asia/Shanghai", ["Monday", " SAT "], "8:30-12:00", [date(2026, 10, 1)]
    )
    assert calendar.weekdays == frozenset({0, 5})
    assert (calendar.opens, calendar.closes) == (time(8, 30), time(12))
    assert calendar.holidays == frozenset({date(2026, 10, 1)})


@pytest.mark.parametrize(
    ("tz", "weekdays", "hours", "holidays", "message"),
    [
        ("Mars/Olympus", WEEKDAYS, "09:00-18:00", [], "unknown time zone 'Mars/Olympus'"),
        ("", WEEKDAYS, "09:00-18:00", [], "unknown time zone ''"),
        ("Europe/London", ["mon", "funday"], "09:00-18:00", [], "unknown weekday 'funday'"),
        ("Europe/London", [], "09:00-18:00", [], "at least one working weekday"),
        ("Europe/London", WEEKDAYS, "09:00", [], "working hours: '09:00' is not a range"),
        ("Europe/London", WEEKDAYS, "9am-6pm", [], "working hours: '9am' is not a time"),
        ("Europe/London", WEEKDAYS, "09:00-24:00", [], "hours 00-23"),
        ("Europe/London", WEEKDAYS, "18:00-09:00", [], "must open before they close"),
        ("Europe/London", WEEKDAYS, "09:00-09:00", [], "must open before they close"),
        ("Europe/London", WEEKDAYS, "09:00-18:00", ["25/12/2026"], "holiday '25/12/2026'"),
        ("Europe/London", WEEKDAYS, "09:00-18:00", ["2026-02-30"], "not an ISO date"),
    ],
)
def test_from_config_rejects_bad_input(
    tz: str, weekdays: list[str], hours: str, holidays: list[str], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        WorkCalendar.from_config(tz, weekdays, hours, holidays)


def test_weekday_numbers_are_checked() -> None:
    with pytest.raises(ValueError, match="0 \\(Monday\\) to 6"):
        WorkCalendar(LONDON, frozenset({7}), time(9), time(18))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.next_working_start(datetime(2026, 3, 2, 10)),
        lambda c: c.add_working_days(datetime(2026, 3, 2, 10), 1),
        lambda c: c.end_of_working_day(datetime(2026, 3, 2, 10)),
        lambda c: c.due(datetime(2026, 3, 2, 10), Span(seconds=60)),
        lambda c: c.working_days_between(datetime(2026, 3, 2), utc(2026, 3, 3)),
    ],
)
def test_naive_datetimes_are_rejected(call: Callable[[WorkCalendar], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(london())


def test_aware_non_utc_input_is_accepted_and_utc_returned() -> None:
    at = datetime(2026, 7, 1, 10, tzinfo=LONDON)
    result = london().next_working_start(at)
    assert result == utc(2026, 7, 1, 9)
    assert result.tzinfo is UTC


# --- working days ----------------------------------------------------------------------------


def test_is_working_day() -> None:
    calendar = london()
    assert calendar.is_working_day(date(2026, 3, 2))  # Monday
    assert not calendar.is_working_day(date(2026, 3, 7))  # Saturday
    assert not calendar.is_working_day(date(2026, 3, 8))  # Sunday
    assert not calendar.is_working_day(date(2026, 4, 3))  # Good Friday


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 2, 10, 15), utc(2026, 3, 2, 10, 15)),  # inside hours: unchanged
        (utc(2026, 3, 2, 9), utc(2026, 3, 2, 9)),  # exactly opening
        (utc(2026, 3, 2, 7, 30), utc(2026, 3, 2, 9)),  # before opening
        (utc(2026, 3, 2, 18), utc(2026, 3, 3, 9)),  # exactly closing: day is over
        (utc(2026, 3, 6, 19), utc(2026, 3, 9, 9)),  # Friday evening -> Monday
        (utc(2026, 3, 7, 12), utc(2026, 3, 9, 9)),  # Saturday -> Monday
        (utc(2026, 4, 2, 17, 30), utc(2026, 4, 7, 8)),  # Thu 18:30 BST, Easter -> Tue 09:00 BST
        (utc(2026, 7, 1, 8, 30), utc(2026, 7, 1, 8, 30)),  # 09:30 BST is working time
        (utc(2026, 7, 1, 7, 30), utc(2026, 7, 1, 8)),  # 08:30 BST -> 09:00 BST
    ],
)
def test_next_working_start(at: datetime, expected: datetime) -> None:
    assert london().next_working_start(at) == expected


def test_add_working_days_across_a_weekend() -> None:
    friday_late = utc(2026, 3, 6, 17)
    assert london().add_working_days(friday_late, 1) == utc(2026, 3, 9, 17)
    assert london().add_working_days(friday_late, 5) == utc(2026, 3, 13, 17)


def test_add_working_days_across_holidays() -> None:
    thursday = utc(2026, 4, 2, 9)  # 10:00 BST before Easter
    assert london().add_working_days(thursday, 1) == utc(2026, 4, 7, 9)
    assert london().add_working_days(thursday, 2) == utc(2026, 4, 8, 9)


def test_add_working_days_from_outside_working_hours_rolls_forward_first() -> None:
    assert london().add_working_days(utc(2026, 3, 7, 11), 1) == utc(2026, 3, 10, 9)  # Saturday
    assert london().add_working_days(utc(2026, 3, 9, 19), 1) == utc(2026, 3, 11, 9)  # Mon night
    assert london().add_working_days(utc(2026, 3, 9, 6), 1) == utc(2026, 3, 10, 9)  # Mon dawn


def test_add_working_days_from_a_holiday() -> None:
    christmas = utc(2026, 12, 25, 10)
    # Rolls to Tuesday 29th (Boxing Day substitute on Monday), then one more day.
    assert london().add_working_days(christmas, 1) == utc(2026, 12, 30, 9)


def test_add_zero_working_days_only_rolls_forward() -> None:
    assert london().add_working_days(utc(2026, 3, 2, 10), 0) == utc(2026, 3, 2, 10)
    assert london().add_working_days(utc(2026, 3, 7, 10), 0) == utc(2026, 3, 9, 9)


def test_add_negative_working_days_is_rejected() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        london().add_working_days(utc(2026, 3, 2, 10), -1)


def test_add_working_days_keeps_wall_clock_when_london_springs_forward() -> None:
    # Friday 10:00 GMT; clocks go forward on Sunday 29 March; Monday 10:00 BST is 09:00 UTC.
    assert london().add_working_days(utc(2026, 3, 27, 10), 1) == utc(2026, 3, 30, 9)


def test_add_working_days_keeps_wall_clock_when_london_falls_back() -> None:
    # Friday 10:00 BST; clocks go back on Sunday 25 October; Monday 10:00 GMT is 10:00 UTC.
    assert london().add_working_days(utc(2026, 10, 23, 9), 1) == utc(2026, 10, 26, 10)


def test_add_working_days_keeps_wall_clock_when_new_york_springs_forward() -> None:
    # Friday 10:00 EST (15:00 UTC) -> Monday 10:00 EDT (14:00 UTC), change on 8 March.
    assert new_york().add_working_days(utc(2026, 3, 6, 15), 1) == utc(2026, 3, 9, 14)


def test_add_working_days_keeps_wall_clock_when_new_york_falls_back() -> None:
    # Friday 10:00 EDT (14:00 UTC) -> Monday 10:00 EST (15:00 UTC), change on 1 November.
    assert new_york().add_working_days(utc(2026, 10, 30, 14), 1) == utc(2026, 11, 2, 15)


def test_add_working_days_to_a_wall_time_skipped_by_dst() -> None:
    # Saturday 02:30 EST; on Sunday 02:30 does not exist: read as EST, i.e. 03:30 EDT.
    assert every_day_new_york().add_working_days(utc(2026, 3, 7, 7, 30), 1) == utc(
        2026, 3, 8, 7, 30
    )


def test_add_working_days_to_an_ambiguous_wall_time_takes_the_first() -> None:
    # Saturday 01:30 EDT; on Sunday 01:30 happens twice: the first one (EDT) is chosen.
    assert every_day_new_york().add_working_days(utc(2026, 10, 31, 5, 30), 1) == utc(
        2026, 11, 1, 5, 30
    )


def test_add_working_days_without_dst() -> None:
    shanghai = WorkCalendar.from_config("Asia/Shanghai", WEEKDAYS, "09:00-18:00", [])
    # Friday 10:00 CST (02:00 UTC) -> Monday 10:00 CST, unaffected by DST elsewhere.
    assert shanghai.add_working_days(utc(2026, 3, 27, 2), 1) == utc(2026, 3, 30, 2)
    # Sunday 23:30 UTC is already Monday 07:30 in Shanghai: rolls to Monday 09:00 CST.
    assert shanghai.next_working_start(utc(2026, 3, 29, 23, 30)) == utc(2026, 3, 30, 1)


# --- end of working day ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 18)),  # during the day
        (utc(2026, 3, 2, 7), utc(2026, 3, 2, 18)),  # before opening: same day
        (utc(2026, 3, 2, 17, 59), utc(2026, 3, 2, 18)),  # a minute before closing
        (utc(2026, 3, 2, 18), utc(2026, 3, 3, 18)),  # exactly closing: next working day
        (utc(2026, 3, 6, 19), utc(2026, 3, 9, 18)),  # Friday evening -> Monday
        (utc(2026, 3, 7, 10), utc(2026, 3, 9, 18)),  # Saturday -> Monday
        (utc(2026, 4, 2, 18), utc(2026, 4, 7, 17)),  # Thu 19:00 BST -> Tue after Easter, 18:00 BST
        (utc(2026, 3, 27, 19), utc(2026, 3, 30, 17)),  # across spring forward: 18:00 BST
    ],
)
def test_end_of_working_day(at: datetime, expected: datetime) -> None:
    assert london().end_of_working_day(at) == expected


# --- due -------------------------------------------------------------------------------------


def test_due_elapsed_span_is_real_time_across_dst() -> None:
    day = Span(seconds=86400)
    # Saturday noon before London springs forward: 24 real hours, i.e. 13:00 BST on Sunday.
    assert london().due(utc(2026, 3, 28, 12), day) == utc(2026, 3, 29, 12)
    assert london().due(utc(2026, 10, 24, 12), day) == utc(2026, 10, 25, 12)


def test_due_elapsed_span_ignores_working_hours() -> None:
    assert london().due(utc(2026, 3, 6, 17), Span(seconds=4 * 3600)) == utc(2026, 3, 6, 21)


def test_due_working_day_span() -> None:
    # Tuesday 10:00 + 4 working days = Monday 10:00.
    assert london().due(utc(2026, 3, 3, 10), Span(working_days=4)) == utc(2026, 3, 9, 10)


# --- working days between --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (utc(2026, 3, 2, 10), utc(2026, 3, 9, 10), 5),  # Monday to Monday
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 17), 0),  # same day
        (utc(2026, 3, 9, 10), utc(2026, 3, 2, 10), 0),  # reversed
        (utc(2026, 3, 6, 10), utc(2026, 3, 8, 10), 0),  # Friday to Sunday
        (utc(2026, 4, 2, 10), utc(2026, 4, 7, 10), 1),  # over Easter: only Tuesday
        (utc(2026, 1, 1, 10), utc(2027, 1, 1, 10), 257),  # 261 weekdays less 4 holidays
    ],
)
def test_working_days_between(a: datetime, b: datetime, expected: int) -> None:
    assert london().working_days_between(a, b) == expected


def test_working_days_between_matches_counting_day_by_day() -> None:
    calendar = WorkCalendar.from_config(
        "Europe/London", ["tue", "sat", "sun"], "09:00-18:00", [*UK_HOLIDAYS, "2026-04-04"]
    )
    start = utc(2026, 3, 20, 12)
    for length in range(0, 60):
        end = start + timedelta(days=length)
        days = (start.date() + timedelta(days=i) for i in range(1, length + 1))
        expected = sum(1 for d in days if calendar.is_working_day(d))
        assert calendar.working_days_between(start, end) == expected, length


def test_working_days_between_uses_local_dates() -> None:
    shanghai = WorkCalendar.from_config("Asia/Shanghai", WEEKDAYS, "09:00-18:00", [])
    # Monday 20:00 UTC is already Tuesday in Shanghai; Tuesday 10:00 UTC is Tuesday there too.
    assert shanghai.working_days_between(utc(2026, 3, 2, 20), utc(2026, 3, 3, 10)) == 0
    assert shanghai.working_days_between(utc(2026, 3, 2, 10), utc(2026, 3, 2, 20)) == 1
