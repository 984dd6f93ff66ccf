from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.domain.quiet_hours import DEFAULT_QUIET_WINDOWS, QuietHours

LONDON = ZoneInfo("Europe/London")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def london(*windows: str) -> QuietHours:
    return QuietHours.parse("Europe/London", windows or DEFAULT_QUIET_WINDOWS)


# --- configuration ---------------------------------------------------------------------------


def test_parse_defaults() -> None:
    assert QuietHours.parse("Europe/London") == QuietHours(
        tz=LONDON, windows=((time(21), time(8)), (time(12), time(13, 30)))
    )


@pytest.mark.parametrize(
    ("tz", "windows", "message"),
    [
        ("Europe/Atlantis", ["21:00-08:00"], "unknown time zone 'Europe/Atlantis'"),
        ("Europe/London", ["21:00"], "quiet hours window: '21:00' is not a range of times"),
        ("Europe/London", ["21:00-08:00-09:00"], "is not a range of times"),
        ("Europe/London", ["25:00-08:00"], "'25:00' is not a time of day: hours 00-23"),
        ("Europe/London", ["21.00-08.00"], "'21.00' is not a time of day: use HH:MM"),
        ("Europe/London", ["21:00-21:00"], "'21:00-21:00' starts and ends at the same time"),
        ("Europe/London", "21:00-08:00", "a list of 'HH:MM-HH:MM' windows, not one string"),
        ("Europe/London", ["00:00-12:00", "11:00-00:00"], "cover the whole day"),
        ("Europe/London", ["21:00-08:00", "07:00-22:00"], "cover the whole day"),
    ],
)
def test_parse_rejects_bad_config(tz: str, windows: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QuietHours.parse(tz, windows)


def test_windows_that_nearly_cover_the_day_are_allowed() -> None:
    quiet = QuietHours.parse("Europe/London", ["00:00-12:00", "12:01-00:00"])
    assert quiet.release_at(utc(2026, 1, 5, 3)) == utc(2026, 1, 5, 12)


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        london().is_quiet(datetime(2026, 1, 5, 22))
    with pytest.raises(ValueError, match="timezone-aware"):
        london().release_at(datetime(2026, 1, 5, 22))


def test_empty_config_is_never_quiet() -> None:
    quiet = QuietHours.parse("Europe/London", [])
    assert not quiet.is_quiet(utc(2026, 1, 5, 3))
    assert quiet.release_at(utc(2026, 1, 5, 3)) == utc(2026, 1, 5, 3)


# --- is_quiet (January: London wall clock equals UTC) ----------------------------------------


@pytest.mark.parametrize(
    ("at", "quiet"),
    [
        (utc(2026, 1, 5, 20, 59, 59), False),
        (utc(2026, 1, 5, 21), True),  # start is inclusive
        (utc(2026, 1, 5, 23, 59, 59), True),
        (utc(2026, 1, 6, 0), True),  # across midnight
        (utc(2026, 1, 6, 7, 59, 59), True),
        (utc(2026, 1, 6, 8), False),  # end is exclusive
        (utc(2026, 1, 6, 11, 59, 59), False),
        (utc(2026, 1, 6, 12), True),  # midday window
        (utc(2026, 1, 6, 13, 29, 59), True),
        (utc(2026, 1, 6, 13, 30), False),
    ],
)
def test_is_quiet_boundaries(at: datetime, quiet: bool) -> None:
    assert london().is_quiet(at) is quiet


def test_is_quiet_uses_local_time() -> None:
    # In July London is on BST: 20:30 UTC is 21:30 local, 07:30 UTC is 08:30 local.
    assert london().is_quiet(utc(2026, 7, 1, 20, 30))
    assert not london().is_quiet(utc(2026, 7, 1, 7, 30))


# --- release_at ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (utc(2026, 1, 5, 10), utc(2026, 1, 5, 10)),  # not quiet: unchanged
        (utc(2026, 1, 5, 21), utc(2026, 1, 6, 8)),  # exactly at start
        (utc(2026, 1, 5, 23, 15), utc(2026, 1, 6, 8)),  # before midnight
        (utc(2026, 1, 6, 2), utc(2026, 1, 6, 8)),  # after midnight
        (utc(2026, 1, 6, 8), utc(2026, 1, 6, 8)),  # exactly at end
        (utc(2026, 1, 6, 12, 15), utc(2026, 1, 6, 13, 30)),  # midday window
        (utc(2026, 7, 1, 21), utc(2026, 7, 2, 7)),  # 22:00 BST -> 08:00 BST
    ],
)
def test_release_at(at: datetime, expected: datetime) -> None:
    assert london().release_at(at) == expected


def test_release_at_chains_adjacent_and_overlapping_windows() -> None:
    quiet = london("21:00-08:00", "07:30-09:00", "09:00-09:15", "09:10-09:20")
    assert quiet.release_at(utc(2026, 1, 5, 23)) == utc(2026, 1, 6, 9, 20)
    assert quiet.release_at(utc(2026, 1, 6, 9, 12)) == utc(2026, 1, 6, 9, 20)


def test_release_at_with_a_window_ending_at_midnight() -> None:
    quiet = london("22:00-00:00", "00:00-06:00")
    assert quiet.release_at(utc(2026, 1, 5, 22, 30)) == utc(2026, 1, 6, 6)


def test_release_at_over_the_night_london_springs_forward() -> None:
    # Saturday 22:00 GMT; clocks jump 01:00 GMT -> 02:00 BST; 08:00 BST is 07:00 UTC.
    assert london().release_at(utc(2026, 3, 28, 22)) == utc(2026, 3, 29, 7)


def test_release_at_over_the_night_london_falls_back() -> None:
    # Saturday 23:00 BST; clocks go back 02:00 BST -> 01:00 GMT; 08:00 GMT is 08:00 UTC.
    assert london().release_at(utc(2026, 10, 24, 22)) == utc(2026, 10, 25, 8)


def test_release_at_over_dst_nights_in_new_york() -> None:
    quiet = QuietHours.parse("America/New_York")
    # Saturday 22:00 EST -> Sunday 08:00 EDT.
    assert quiet.release_at(utc(2026, 3, 8, 3)) == utc(2026, 3, 8, 12)
    # Saturday 22:00 EDT -> Sunday 08:00 EST.
    assert quiet.release_at(utc(2026, 11, 1, 2)) == utc(2026, 11, 1, 13)


def test_release_at_without_dst() -> None:
    quiet = QuietHours.parse("Asia/Shanghai")
    # 22:00 CST -> 08:00 CST the next day.
    assert quiet.release_at(utc(2026, 3, 8, 14)) == utc(2026, 3, 9, 0)


def test_release_when_a_window_ends_in_the_spring_forward_gap() -> None:
    # 01:30 never happens on 29 March: quiet ends when clocks jump to 02:00 BST (01:00 UTC).
    assert london("00:00-01:30").release_at(utc(2026, 3, 29, 0, 30)) == utc(2026, 3, 29, 1)
    # New York jumps 02:00 EST -> 03:00 EDT (07:00 UTC).
    new_york = QuietHours.parse("America/New_York", ["01:00-02:30"])
    assert new_york.release_at(utc(2026, 3, 8, 6, 15)) == utc(2026, 3, 8, 7)


def test_release_when_clocks_going_back_leave_the_window() -> None:
    quiet = london("01:30-03:00")
    # 01:45 BST is quiet; at 01:00 UTC clocks read 01:00 GMT, before the window.
    assert quiet.release_at(utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 25, 1)
    # ... and the repeated 01:30 (GMT) is quiet again until 03:00 GMT.
    assert quiet.is_quiet(utc(2026, 10, 25, 1, 30))
    assert quiet.release_at(utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 3)


def test_a_repeated_hour_is_quiet_both_times() -> None:
    quiet = london("01:00-01:30")
    assert quiet.release_at(utc(2026, 10, 25, 0, 10)) == utc(2026, 10, 25, 0, 30)  # 01:10 BST
    assert quiet.release_at(utc(2026, 10, 25, 1, 10)) == utc(2026, 10, 25, 1, 30)  # 01:10 GMT


def test_release_at_returns_utc() -> None:
    at = datetime(2026, 1, 5, 23, tzinfo=LONDON)
    released = london().release_at(at)
    assert released == utc(2026, 1, 6, 8)
    assert released.tzinfo is UTC
