"""Durations in configuration: plain seconds, units, or working days.

Accepted forms: ``90`` (seconds), ``"90s"``, ``"5m"``, ``"4h"``, ``"3d"``, ``"1w"``, combinations
such as ``"1h30m"``, and working days: ``"4wd"``, ``"4 working days"``, ``"1 working day"``.
"""

import re
from dataclasses import dataclass
from datetime import timedelta

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+)\s*([smhdw])")
_WORKING = re.compile(r"^(\d+)\s*(?:wd|working\s+days?)$")


@dataclass(frozen=True)
class Span:
    """A span of elapsed time, or a count of working days (never both)."""

    seconds: int = 0
    working_days: int = 0

    @property
    def is_working(self) -> bool:
        return self.working_days > 0

    @property
    def delta(self) -> timedelta:
        return timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        if self.is_working:
            return f"{self.working_days}wd"
        return f"{self.seconds}s"


def parse_span(value: object) -> Span:
    """Parse a configured duration; raises ``ValueError`` saying what is accepted."""
    if isinstance(value, bool):
        raise ValueError(_explain(value))
    if isinstance(value, int):
        if value <= 0:
            raise ValueError("must be a positive number of seconds")
        return Span(seconds=value)
    if not isinstance(value, str):
        raise ValueError(_explain(value))
    text = value.strip().lower()
    if text.isdigit():
        return parse_span(int(text))
    working = _WORKING.match(text)
    if working:
        days = int(working.group(1))
        if days <= 0:
            raise ValueError("working days must be at least 1")
        return Span(working_days=days)
    compact = text.replace(" ", "")
    parts = _PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ValueError(_explain(value))
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in parts)
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return Span(seconds=seconds)


def _explain(value: object) -> str:
    return (
        f'{value!r} is not a duration: use seconds (90), units ("90s", "5m", "4h", '
        '"3d", "1w", "1h30m") or working days ("4wd", "4 working days")'
    )
