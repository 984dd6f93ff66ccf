"""Hours during which residents are not messaged; deferred messages go out at ``release_at``.

Quietness is a property of the local wall clock: an instant is quiet when the wall-clock time
in the estate's zone falls in a window ``[start, end)``. A window whose start is after its end
spans midnight. On a night when clocks go back, a window hour that repeats is quiet both times.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.calendar import load_zone, parse_clock_range, require_aware

DEFAULT_QUIET_WINDOWS = ("21:00-08:00", "12:00-13:30")

_DAY_US = 24 * 3600 * 1_000_000
# Each step leaves a window or crosses a UTC offset change; this bounds any real configuration.
_MAX_STEPS = 100

Window = tuple[time, time]


def _microsecond_of_day(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _contains(window: Window, t: time) -> bool:
    start, end = window
    if start < end:
        return start <= t < end
    return t >= start or t < end


def _covers_whole_day(windows: Sequence[Window]) -> bool:
    pieces: list[tuple[int, int]] = []
    for start, end in windows:
        s, e = _microsecond_of_day(start), _microsecond_of_day(end)
        pieces.extend([(s, e)] if s < e else [(s, _DAY_US), (0, e)])
    reached = 0
    for s, e in sorted(pieces):
        if s > reached:
            return False
        reached = max(reached, e)
    return reached >= _DAY_US


def _parse_window(spec: str) -> Window:
    try:
        start, end = parse_clock_range(spec)
    except ValueError as error:
        raise ValueError(f"quiet hours window: {error}") from None
    if start == end:
        raise ValueError(f"quiet hours window {spec!r} starts and ends at the same time")
    return start, end


@dataclass(frozen=True)
class QuietHours:
    tz: ZoneInfo
    windows: tuple[Window, ...] = ()

    def __post_init__(self) -> None:
        for start, end in self.windows:
            if start == end:
                raise ValueError(f"quiet hours window {start:%H:%M}-{end:%H:%M} is empty")
        if self.windows and _covers_whole_day(self.windows):
            raise ValueError("quiet hours cover the whole day, so nothing could ever be sent")

    @classmethod
    def parse(cls, tz_name: str, windows: Sequence[str] = DEFAULT_QUIET_WINDOWS) -> "QuietHours":
        """Build from configuration such as ``["21:00-08:00", "12:00-13:30"]``; ``[]`` means
        never quiet. Raises ``ValueError`` naming the bad value."""
        if isinstance(windows, str):
            raise ValueError("quiet hours must be a list of 'HH:MM-HH:MM' windows, not one string")
        return cls(tz=load_zone(tz_name), windows=tuple(_parse_window(w) for w in windows))

    def is_quiet(self, at: datetime) -> bool:
        wall = require_aware(at, "at").astimezone(self.tz).time().replace(fold=0)
        return any(_contains(window, wall) for window in self.windows)

    def release_at(self, at: datetime) -> datetime:
        """``at`` if it is not quiet, else the first instant after it that is not quiet."""
        current = require_aware(at, "at")
        for _ in range(_MAX_STEPS):
            if not self.is_quiet(current):
                return current
            current = self._next_change(current)
        raise RuntimeError(f"quiet hours {self.windows} did not release {at.isoformat()}")

    def _next_change(self, current: datetime) -> datetime:
        """Where the quiet stretch holding ``current`` may end: the latest end among the windows
        holding it, or the first UTC offset change before that, whichever comes first.

        Assumes the zone changes offset at most once within a day, which holds for real zones.
        """
        local = current.astimezone(self.tz)
        offset = _offset(local)
        wall = local.replace(tzinfo=None, fold=0)
        ends = [
            self._wall_end(window, wall)
            for window in self.windows
            if _contains(window, wall.time())
        ]
        candidate = (max(ends) - offset).replace(tzinfo=UTC)
        if _offset(candidate.astimezone(self.tz)) == offset:
            return candidate
        return self._offset_change(current, candidate)

    @staticmethod
    def _wall_end(window: Window, wall: datetime) -> datetime:
        start, end = window
        end_wall = datetime.combine(wall.date(), end)
        if start > end and wall.time() >= start:
            end_wall += timedelta(days=1)
        return end_wall

    def _offset_change(self, before: datetime, after: datetime) -> datetime:
        """The first instant in ``(before, after]`` whose UTC offset differs from ``before``'s."""
        offset = _offset(before.astimezone(self.tz))
        resolution = timedelta(microseconds=1)
        while after - before > resolution:
            middle = before + (after - before) / 2
            if _offset(middle.astimezone(self.tz)) == offset:
                before = middle
            else:
                after = middle
        return after


def _offset(local: datetime) -> timedelta:
    offset = local.utcoffset()
    assert offset is not None  # always set: local datetimes here carry a ZoneInfo
    return offset
