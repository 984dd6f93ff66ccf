"""Working days and hours of an estate, and deadlines measured against them.

Every datetime passed in must be timezone-aware (``ValueError`` otherwise) and every datetime
returned is in UTC. Local wall-clock arithmetic happens in the calendar's zone.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.spans import Span

_DAY = timedelta(days=1)
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAY_NAMES = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def require_aware(at: datetime, name: str = "datetime") -> datetime:
    """Return ``at`` converted to UTC; naive datetimes are rejected rather than guessed at."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {at.isoformat()}")
    return at.astimezone(UTC)


def load_zone(name: str) -> ZoneInfo:
    """Load an IANA time zone, turning every lookup failure into a ``ValueError``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as 'Europe/London'"
        ) from None


def parse_clock(text: str) -> time:
    """Parse ``"HH:MM"`` (24-hour clock)."""
    match = _CLOCK.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. '09:00'")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day: hours 00-23, minutes 00-59")
    return time(hour, minute)


def parse_clock_range(text: str) -> tuple[time, time]:
    """Parse ``"HH:MM-HH:MM"`` into its two ends (no ordering is checked here)."""
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"{text!r} is not a range of times: use HH:MM-HH:MM, e.g. '09:00-18:00'")
    return parse_clock(parts[0]), parse_clock(parts[1])


def local_instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the wall clock in ``tz`` shows ``wall`` on ``day``.

    An ambiguous wall time (clocks going back) resolves to its first occurrence (``fold=0``);
    a wall time skipped by clocks going forward is read with the offset in force before the
    change, so it lands as far past the change as it was meant to be past the previous hour
    (02:30 on a 02:00→03:00 night becomes 03:30).
    """
    naive = datetime.combine(day, wall.replace(tzinfo=None, fold=0))
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _parse_weekday(name: str) -> int:
    key = name.strip().lower()
    if key in _WEEKDAY_NAMES:
        return _WEEKDAY_NAMES.index(key)
    if key in _FULL_WEEKDAY_NAMES:
        return _FULL_WEEKDAY_NAMES.index(key)
    raise ValueError(f"unknown weekday {name!r}: use {', '.join(_WEEKDAY_NAMES)}")


def _parse_holiday(value: str | date) -> date:
    if isinstance(value, datetime):
        raise ValueError(f"holiday {value!r} must be a date, not a date and time")
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"holiday {value!r} is not an ISO date: use YYYY-MM-DD") from None


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours; working time on a working day is ``[opens, closes)``."""

    tz: ZoneInfo
    weekdays: frozenset[int]
    opens: time
    closes: time
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if not self.weekdays:
            raise ValueError("a work calendar needs at least one working weekday")
        if not self.weekdays <= frozenset(range(7)):
            raise ValueError(f"weekdays must be 0 (Monday) to 6 (Sunday), got {set(self.weekdays)}")
        if self.opens >= self.closes:
            raise ValueError(
                f"working hours must open before they close, got "
                f"{self.opens:%H:%M}-{self.closes:%H:%M}"
            )

    @classmethod
    def from_config(
        cls,
        tz_name: str,
        weekdays: Iterable[str],
        hours: str,
        holidays: Iterable[str | date] = (),
    ) -> "WorkCalendar":
        """Build a calendar from configuration, e.g. ``("Europe/London", ["mon", ...],
        "09:00-18:00", ["2026-12-25"])``; raises ``ValueError`` naming the bad value."""
        tz = load_zone(tz_name)
        days = frozenset(_parse_weekday(name) for name in weekdays)
        try:
            opens, closes = parse_clock_range(hours)
        except ValueError as error:
            raise ValueError(f"working hours: {error}") from None
        return cls(
            tz=tz,
            weekdays=days,
            opens=opens,
            closes=closes,
            holidays=frozenset(_parse_holiday(value) for value in holidays),
        )

    def is_working_day(self, d: date) -> bool:
        return d.weekday() in self.weekdays and d not in self.holidays

    def next_working_start(self, at: datetime) -> datetime:
        """``at`` itself during working time, otherwise the next opening time."""
        at = require_aware(at, "at")
        day = self._local_date(at)
        if self.is_working_day(day):
            if at < self._opening(day):
                return self._opening(day)
            if at < self._closing(day):
                return at
        return self._opening(self._next_working_day(day))

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Deadline for "within ``days`` working days" of ``start``.

        ``start`` is first rolled forward to working time (``next_working_start``); the result is
        that local wall-clock time ``days`` working days later, skipping non-working weekdays and
        holidays. So Friday 17:00 + 1 is Monday 17:00, and Saturday 10:00 + 1 is Tuesday 09:00.
        The wall-clock time is kept across DST changes (the UTC offset of the result may differ
        from the start's); a wall time that does not exist or is ambiguous on the target day is
        resolved as in ``local_instant``. ``days == 0`` only rolls forward.
        """
        if days < 0:
            raise ValueError(f"working days must not be negative, got {days}")
        rolled = self.next_working_start(start)
        local = rolled.astimezone(self.tz)
        day = local.date()
        for _ in range(days):
            day = self._next_working_day(day)
        return local_instant(day, local.time(), self.tz)

    def end_of_working_day(self, at: datetime) -> datetime:
        """Closing time of ``at``'s local day if it is a working day and ``at`` is before closing,
        else closing time of the next working day. At exactly closing time the day is over."""
        at = require_aware(at, "at")
        day = self._local_date(at)
        if self.is_working_day(day) and at < self._closing(day):
            return self._closing(day)
        return self._closing(self._next_working_day(day))

    def due(self, start: datetime, span: Span) -> datetime:
        """Elapsed spans are real elapsed time (24h across a DST change is 24 real hours);
        working-day spans follow ``add_working_days``."""
        start = require_aware(start, "start")
        if span.is_working:
            return self.add_working_days(start, span.working_days)
        return start + span.delta

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """Number of working days among the local dates in ``(a's date, b's date]``; 0 if ``b``'s
        date is not after ``a``'s."""
        first = self._local_date(require_aware(a, "a"))
        last = self._local_date(require_aware(b, "b"))
        if last <= first:
            return 0
        full_weeks, rest = divmod((last - first).days, 7)
        tail_start = first + timedelta(days=full_weeks * 7)
        count = full_weeks * len(self.weekdays)
        count += sum(
            1
            for i in range(1, rest + 1)
            if (tail_start + timedelta(days=i)).weekday() in self.weekdays
        )
        count -= sum(1 for h in self.holidays if first < h <= last and h.weekday() in self.weekdays)
        return count

    def _local_date(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def _opening(self, day: date) -> datetime:
        return local_instant(day, self.opens, self.tz)

    def _closing(self, day: date) -> datetime:
        return local_instant(day, self.closes, self.tz)

    def _next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day`` (weekdays are never empty, so this ends)."""
        day += _DAY
        while not self.is_working_day(day):
            day += _DAY
        return day
