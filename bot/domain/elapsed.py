"""Elapsed time as the managers' figures count it: whole seconds between instants, each instant
truncated to its second (its UTC epoch) first, the same on SQLite, PostgreSQL and here."""

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def epoch_second(moment: datetime) -> int:
    """The whole seconds since 1970 (UTC) of an aware instant, truncated."""
    return (moment - EPOCH) // SECOND


def whole_seconds(start: datetime, end: datetime) -> int:
    """Seconds from ``start`` to ``end`` by whole-second instants (``end`` may be earlier)."""
    return epoch_second(end) - epoch_second(start)
