"""The managers' figures for a period: every number is computed by the database, except that
SQLite's percentiles are interpolated here from the durations it returns.

Definitions (the same on SQLite and PostgreSQL):

* **Period.** Local days in the estate's time zone; a period runs from local midnight of its
  first day to local midnight after its last day (a day across a DST change lasts 23 or 25 h).
  ``today``, ``week`` (from Monday), ``month`` and ``quarter`` are the calendar period that
  contains today, up to the end of today; ``last-week``, ``last-month`` and ``last-quarter``
  the whole previous one; ``YYYY-MM-DD..YYYY-MM-DD`` both days included.
* **The requests of a period** are those registered in it (optionally of one department).
* **Durations** are elapsed seconds between whole-second instants: each timestamp is truncated
  to its second (UTC epoch), then subtracted. Time to claim is ``claimed_at - created_at``,
  to arrive ``on_site_at - created_at``, to resolve ``resolved_at - created_at``, over the
  requests that reached that step; a request stores each (``claim_seconds``, …) with the
  step's time.
* **Percentiles** use linear interpolation between closest ranks (PostgreSQL's
  ``percentile_cont``, Excel's ``PERCENTILE.INC``): with the n values sorted ascending and
  0-based, ``pos = p·(n-1)``, ``lo = floor(pos)``, ``hi = ceil(pos)`` and the percentile is
  ``v[lo] + (pos - lo)·(v[hi] - v[lo])`` (computed in double precision, so both dialects give
  the same bits). PostgreSQL runs ``percentile_cont``; on SQLite the values come back in one
  ``group_concat`` and are sorted and interpolated in Python (``interpolated``).
* **Within standard.** A deadline is *met* when the step happened at or before it; *missed* when
  it happened later, or had not happened when the deadline passed while the request was still
  open (closed, rejected or cancelled requests stop the clock at ``closed_at``). Requests whose
  deadline is still ahead, or that ended before it without the step, are not counted.
* **Overdue now:** open requests past any of their deadlines (``overdue_condition``).
* **Satisfaction:** polls answered in the period; the share with an overall score of 4 or 5.
* **48 h callbacks:** "after repair" callbacks due in the period (up to now); the share done by
  their due time.
* **Complaints per 100 flats:** complaints registered in the period per 100 active flats.
* **Messages given up:** outbox rows queued in the period whose status is ``failed``.
"""

import math
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    nulls_last,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.calendar import local_instant
from bot.domain.kinds import TicketKind
from bot.services.base import Service
from bot.services.context import EstateContext
from bot.services.digests import overdue_condition
from bot.ui import console_texts
from storage.dialects import dialect_of
from storage.models import (
    STEP_SECONDS,
    Building,
    Callback,
    Category,
    Department,
    Estate,
    Flat,
    Outbox,
    Poll,
    Ticket,
)
from storage.types import UTCDateTime

MEDIAN, P90 = 0.5, 0.9
SATISFIED_FROM = 4
MAX_PERIOD_DAYS = 800
_QUARTER_MONTHS = (1, 4, 7, 10)


# ---- periods ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    start: datetime  # UTC, local midnight of ``first``
    end: datetime  # UTC, local midnight after ``last``
    tz: str

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    @property
    def label(self) -> str:
        if self.first == self.last:
            return self.first.isoformat()
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def make_period(first: date, last: date, tz: str) -> Period:
    zone = ZoneInfo(tz)
    start = local_instant(first, time(0, 0), zone).astimezone(UTC)
    end = local_instant(last + timedelta(days=1), time(0, 0), zone).astimezone(UTC)
    return Period(first, last, start, end, tz)


def _quarter_start(day: date) -> date:
    month = max(m for m in _QUARTER_MONTHS if m <= day.month)
    return date(day.year, month, 1)


def _month_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(word: str, now: datetime, tz: str) -> Period | None:
    """A period word or range, or None when ``word`` is not one."""
    today = now.astimezone(ZoneInfo(tz)).date()
    word = word.strip().lower()
    first: date | None
    last = today
    if word == "today":
        first = today
    elif word == "yesterday":
        first = last = today - timedelta(days=1)
    elif word == "week":
        first = today - timedelta(days=today.weekday())
    elif word == "month":
        first = today.replace(day=1)
    elif word == "quarter":
        first = _quarter_start(today)
    elif word in ("last-week", "lastweek"):
        last = today - timedelta(days=today.weekday() + 1)
        first = last - timedelta(days=6)
    elif word in ("last-month", "lastmonth"):
        first = _month_before(today, 1)
        last = today.replace(day=1) - timedelta(days=1)
    elif word in ("last-quarter", "lastquarter"):
        first = _month_before(_quarter_start(today), 3)
        last = _quarter_start(today) - timedelta(days=1)
    else:
        first, last_or_none = _parse_range(word)
        if first is None or last_or_none is None:
            return None
        last = last_or_none
    if last < first or (last - first).days > MAX_PERIOD_DAYS:
        return None
    return make_period(first, last, tz)


def _parse_range(word: str) -> tuple[date | None, date | None]:
    parts = word.split("..")
    if len(parts) > 2:
        return None, None
    try:
        first = date.fromisoformat(parts[0])
        last = date.fromisoformat(parts[-1])
    except ValueError:
        return None, None
    return first, last


# ---- SQL building blocks -------------------------------------------------------------------
_SQLITE_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38, 0)  # unixepoch() is from 3.38


def epoch(column: Any, dialect: str) -> ColumnElement[Any]:
    """Whole seconds since 1970 (UTC) of a timestamp column, truncated, identical on both
    dialects (SQLite stores 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC: the first 19 characters)."""
    if dialect == "postgresql":
        # date_part is double precision (exact to the microsecond at today's epochs); EXTRACT
        # returns numeric since PostgreSQL 14, and its arithmetic took a third of /stats.
        return cast(func.floor(func.date_part("epoch", column)), BigInteger)
    if _SQLITE_UNIXEPOCH:  # the same integer, in about half the time of strftime('%s')
        return func.unixepoch(func.substr(column, 1, 19), type_=BigInteger)
    return cast(func.strftime("%s", func.substr(column, 1, 19)), BigInteger)


def seconds_between(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    return cast(epoch(later, dialect) - epoch(earlier, dialect), Float)


STATS_WORK_MEM = "64MB"
SLOT_SECONDS = 900  # every UTC offset in use is a multiple of 15 minutes


def slot(column: Any, period: Period, dialect: str) -> ColumnElement[Any]:
    """The 15-minute slot of the period a timestamp falls in (0 = the first). Local midnights
    always fall on slot boundaries, so slots fold exactly into local days (DST included)."""
    return (epoch(column, dialect) - int(period.start.timestamp())) // SLOT_SECONDS


def slot_day(period: Period, index: int) -> date:
    moment = period.start + timedelta(seconds=int(index) * SLOT_SECONDS)
    return moment.astimezone(ZoneInfo(period.tz)).date()


def at(moment: datetime) -> ColumnElement[Any]:
    """A typed timestamp literal (so SQLite compares it in the stored text format)."""
    return literal(moment, UTCDateTime())


def pg_percentiles(value: ColumnElement[Any], ps: Sequence[float]) -> ColumnElement[Any]:
    """PostgreSQL: every percentile of ``ps`` of ``value`` from one sort (an array; one
    ``percentile_cont`` per percentile sorts the rows once each)."""
    return func.percentile_cont(
        postgresql.array([literal(p, Float) for p in ps]), type_=postgresql.ARRAY(Float)
    ).within_group(value)


def percentile_column(
    value: ColumnElement[Any], ps: Sequence[float], dialect: str
) -> ColumnElement[Any]:
    """The aggregate that gives ``value``'s percentiles ``ps`` (read back with
    ``percentiles_found``): ``percentile_cont`` on PostgreSQL, on SQLite the values themselves in
    one ``group_concat`` (interpolated here)."""
    if dialect == "postgresql":
        return pg_percentiles(value, ps)
    return func.group_concat(value)


def percentiles_found(found: Any, n: int, ps: Sequence[float], dialect: str) -> list[float | None]:
    """The percentiles from what ``percentile_column`` read (``n``: how many values)."""
    if dialect != "postgresql":
        return interpolated(_sqlite_values(found), ps)
    if n == 0 or found is None:
        return [None for _ in ps]
    return [None if v is None else float(v) for v in found]


async def percentiles(
    session: AsyncSession,
    value: ColumnElement[Any],
    where: Sequence[ColumnElement[Any]],
    ps: Sequence[float] = (MEDIAN, P90),
) -> tuple[int, list[float | None]]:
    """How many values, and their percentiles (see the module's definition). ``where`` must
    select the rows that have a value (e.g. ``claimed_at IS NOT NULL``)."""
    dialect = dialect_of(session)
    n, found = (
        await session.execute(
            select(func.count(value), percentile_column(value, ps, dialect))
            .select_from(Ticket)
            .where(*where)
        )
    ).one()
    return int(n or 0), percentiles_found(found, int(n or 0), ps, dialect)


def _sqlite_values(found: str | None) -> list[float]:
    """SQLite: the values of a ``group_concat`` (which skips NULLs), sorted. A quarter's
    durations (250,000 in the benchmark) come back as one string instead of a row each, and
    Python splits and sorts them in ~50 ms; SQLite sorting them for ``ORDER BY … OFFSET`` or
    ``row_number()`` cost 0.1–0.15 s a column."""
    return sorted(map(float, found.split(","))) if found else []


def interpolated(ordered: Sequence[float], ps: Sequence[float]) -> list[float | None]:
    """The percentiles ``ps`` of ascending ``ordered`` values, by the module's definition."""
    if not ordered:
        return [None for _ in ps]
    results: list[float | None] = []
    for p in ps:
        pos = p * (len(ordered) - 1)
        lo, hi = math.floor(pos), math.ceil(pos)
        low = ordered[lo]
        results.append(low if lo == hi else low + (pos - lo) * (ordered[hi] - low))
    return results


async def percentiles_of_each(
    session: AsyncSession,
    values: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[Any]],
    counts: Sequence[int],
    ps: Sequence[float] = (MEDIAN, P90),
) -> list[list[float | None]]:
    """The percentiles of several values over the same rows (each value NULL where it has none),
    with one read of the rows, as ``compute`` reads the steps' durations: the same figures as
    ``percentiles`` for each value with ``<value> IS NOT NULL`` added to ``where``. ``counts``
    are the values' non-NULL counts."""
    dialect = dialect_of(session)
    columns = [percentile_column(value, ps, dialect) for value in values]
    row = (await session.execute(select(*columns).select_from(Ticket).where(*where))).one()
    return [percentiles_found(row[i], counts[i], ps, dialect) for i in range(len(values))]


def met_condition(done: Any, due: Any) -> ColumnElement[bool]:
    return and_(due.is_not(None), done.is_not(None), done <= due)


def missed_condition(done: Any, due: Any, now: datetime) -> ColumnElement[bool]:
    return and_(
        due.is_not(None),
        or_(
            and_(done.is_not(None), done > due),
            and_(done.is_(None), due < func.coalesce(Ticket.closed_at, at(now))),
        ),
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


STEPS = (
    ("claim", "claimed_at", "claim_due_at"),
    ("on_site", "on_site_at", "on_site_due_at"),
    ("resolve", "resolved_at", "resolve_due_at"),
)


def step_duration(done: str) -> Any:
    """The stored duration of the step whose time is ``done``: whole seconds from registration,
    written with the step (``storage.models.step_seconds``)."""
    return getattr(Ticket, STEP_SECONDS[done])


def compliance_columns(now: datetime) -> list[ColumnElement[Any]]:
    """For each step: how many met the standard, how many were decided (met + missed)."""
    columns: list[ColumnElement[Any]] = []
    for _name, done_name, due_name in STEPS:
        done, due = getattr(Ticket, done_name), getattr(Ticket, due_name)
        met = met_condition(done, due)
        columns.append(_count_if(met))
        columns.append(_count_if(or_(met, missed_condition(done, due, now))))
    return columns


# ---- the figures ---------------------------------------------------------------------------
@dataclass
class Timing:
    count: int
    median: float | None
    p90: float | None


@dataclass
class Share:
    hits: int
    total: int

    @property
    def percent(self) -> float | None:
        return None if self.total == 0 else 100.0 * self.hits / self.total


@dataclass
class Figures:
    period: Period
    department: str | None
    total: int
    by_kind: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    by_building: list[tuple[str, int]]
    timings: dict[str, Timing]
    within: dict[str, Share]
    overdue_now: int
    satisfaction: Share
    callbacks: Share
    complaints: int
    flats: int
    failed_messages: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def complaints_per_100_flats(self) -> float | None:
        return None if self.flats == 0 else 100.0 * self.complaints / self.flats


def cohort(estate_id: int, period: Period, department_id: int | None) -> list[ColumnElement[bool]]:
    """The requests of the period (registered in it), optionally of one department."""
    conditions = [
        Ticket.estate_id == estate_id,
        Ticket.created_at >= period.start,
        Ticket.created_at < period.end,
    ]
    if department_id is not None:
        conditions.append(Ticket.department_id == department_id)
    return conditions


async def breakdown(
    session: AsyncSession, key: Any, where: Sequence[ColumnElement[bool]], limit: int | None = None
) -> list[tuple[Any, int]]:
    """Counts per ``key`` (GROUP BY), most first."""
    count = func.count(Ticket.id)
    query = select(key, count).where(*where).group_by(key).order_by(count.desc(), nulls_last(key))
    if limit is not None:
        query = query.limit(limit)
    return [(k, int(n)) for k, n in (await session.execute(query)).all()]


async def _labels(
    session: AsyncSession, model: Any, ids: Sequence[Any], locale: str
) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = (await session.scalars(select(model).where(model.id.in_(wanted)))).all()
    if model is Category:
        return {row.id: row.label(locale) for row in rows}
    return {row.id: row.name for row in rows}


async def labelled(
    session: AsyncSession, model: Any, pairs: list[tuple[Any, int]], locale: str, none: str
) -> list[tuple[str, int]]:
    names = await _labels(session, model, [k for k, _ in pairs], locale)
    return [(names.get(k, none) if k is not None else none, n) for k, n in pairs]


def _ranked(pairs: dict[Any, int]) -> list[tuple[Any, int]]:
    """Counts most first, ties by key with None last: ``breakdown``'s ORDER BY."""
    return sorted(
        pairs.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] if kv[0] is not None else 0)
    )


async def breakdowns(
    session: AsyncSession, keys: Sequence[Any], where: Sequence[ColumnElement[bool]]
) -> list[list[tuple[Any, int]]]:
    """``breakdown`` for several keys with one read of the rows: one GROUP BY over all the keys
    (a few hundred groups), folded per key here."""
    rows = (
        await session.execute(select(*keys, func.count(Ticket.id)).where(*where).group_by(*keys))
    ).all()
    folded: list[dict[Any, int]] = [{} for _ in keys]
    for row in rows:
        n = int(row[-1])
        for index in range(len(keys)):
            folded[index][row[index]] = folded[index].get(row[index], 0) + n
    return [_ranked(pairs) for pairs in folded]


async def compute(
    session: AsyncSession,
    estate_id: int,
    period: Period,
    now: datetime,
    *,
    department_id: int | None = None,
    department_name: str | None = None,
    locale: str = "en",
    none_label: str = "—",
) -> Figures:
    dialect = dialect_of(session)
    if dialect == "postgresql":
        # The percentiles sort a quarter's requests (250,000 over 1,000,000 in the benchmark);
        # with the default 4 MB the sorts spill to disk. For this transaction only.
        await session.execute(text(f"SET LOCAL work_mem = '{STATS_WORK_MEM}'"))
    where = cohort(estate_id, period, department_id)
    # One read of the period's requests for the counts, the compliance, how many reached each
    # step and the durations' percentiles (``percentile_column``); one for the four breakdowns
    # (was 13 reads).
    durations = [step_duration(done) for _n, done, _d in STEPS]
    row = (
        await session.execute(
            select(
                func.count(Ticket.id),
                _count_if(Ticket.kind == TicketKind.COMPLAINT.value),
                *compliance_columns(now),
                *[func.count(getattr(Ticket, done)) for _n, done, _d in STEPS],
                *[percentile_column(duration, (MEDIAN, P90), dialect) for duration in durations],
            ).where(*where)
        )
    ).one()
    total, complaints = int(row[0] or 0), int(row[1] or 0)
    compliance = row[2 : 2 + 2 * len(STEPS)]
    within = {
        name: Share(int(compliance[2 * i]), int(compliance[2 * i + 1]))
        for i, (name, _d, _u) in enumerate(STEPS)
    }
    counts = [int(n or 0) for n in row[2 + 2 * len(STEPS) : 2 + 3 * len(STEPS)]]
    found = row[2 + 3 * len(STEPS) :]
    step_timings = {
        name: Timing(counts[i], *percentiles_found(found[i], counts[i], (MEDIAN, P90), dialect))
        for i, (name, _d, _u) in enumerate(STEPS)
    }
    kinds, categories, departments, buildings = await breakdowns(
        session, [Ticket.kind, Ticket.category_id, Ticket.department_id, Ticket.building_id], where
    )
    by_kind = [(str(k), n) for k, n in kinds]
    by_category = await labelled(session, Category, categories, locale, none_label)
    by_department = await labelled(session, Department, departments, locale, none_label)
    by_building = await labelled(session, Building, buildings, locale, none_label)
    overdue = int(await session.scalar(overdue_count(estate_id, now, department_id)) or 0)
    satisfaction = await _satisfaction(session, estate_id, period, department_id)
    callbacks = await _callbacks(session, estate_id, period, now, department_id)
    flats = await active_flats(session, estate_id)
    failed = await _failed_messages(session, estate_id, period, department_id)
    return Figures(
        period=period,
        department=department_name,
        total=total,
        by_kind=by_kind,
        by_category=by_category,
        by_department=by_department,
        by_building=by_building,
        timings=step_timings,
        within=within,
        overdue_now=overdue,
        satisfaction=satisfaction,
        callbacks=callbacks,
        complaints=complaints,
        flats=flats,
        failed_messages=failed,
    )


def overdue_count(estate_id: int, now: datetime, department_id: int | None) -> Select[Any]:
    """How many requests of the estate (or department) are overdue now: read from the
    open-requests index alone (``ix_tickets_open``)."""
    where = [Ticket.estate_id == estate_id, overdue_condition(now)]
    if department_id is not None:
        where.append(Ticket.department_id == department_id)
    return select(func.count()).select_from(Ticket).where(*where)


def _of_ticket(ticket_id: Any, column: Any) -> ColumnElement[Any]:
    """A column of the row's ticket, as a correlated scalar subquery (a primary-key lookup per
    row). Joining instead, PostgreSQL hashes every ticket of the estate (a sequential scan of the
    table: 200–300 ms over 1,000,000 requests) to match the few thousand polls or callbacks of a
    period."""
    return select(column).where(Ticket.id == ticket_id).scalar_subquery()


async def _satisfaction(
    session: AsyncSession, estate_id: int, period: Period, department_id: int | None
) -> Share:
    conditions = [
        Poll.answered_at >= period.start,
        Poll.answered_at < period.end,
        Poll.overall.is_not(None),
        _of_ticket(Poll.ticket_id, Ticket.estate_id) == estate_id,
    ]
    if department_id is not None:
        conditions.append(_of_ticket(Poll.ticket_id, Ticket.department_id) == department_id)
    hits, total = (
        await session.execute(
            select(_count_if(Poll.overall >= SATISFIED_FROM), func.count(Poll.id)).where(
                *conditions
            )
        )
    ).one()
    return Share(int(hits), int(total))


async def _callbacks(
    session: AsyncSession, estate_id: int, period: Period, now: datetime, department_id: int | None
) -> Share:
    until = min(period.end, now)
    conditions = [
        Callback.reason == "after_repair",
        Callback.due_at >= period.start,
        Callback.due_at < until,
        _of_ticket(Callback.ticket_id, Ticket.estate_id) == estate_id,
    ]
    if department_id is not None:
        conditions.append(_of_ticket(Callback.ticket_id, Ticket.department_id) == department_id)
    on_time = and_(Callback.done_at.is_not(None), Callback.done_at <= Callback.due_at)
    hits, total = (
        await session.execute(
            select(_count_if(on_time), func.count(Callback.id)).where(*conditions)
        )
    ).one()
    return Share(int(hits), int(total))


async def active_flats(session: AsyncSession, estate_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(Flat.id))
            .join(Building, Building.id == Flat.building_id)
            .where(
                Building.estate_id == estate_id, Building.active.is_(True), Flat.active.is_(True)
            )
        )
        or 0
    )


async def _failed_messages(
    session: AsyncSession, estate_id: int, period: Period, department_id: int | None
) -> int:
    query = select(func.count(Outbox.id)).where(
        Outbox.estate_id == estate_id,
        Outbox.status == "failed",
        Outbox.created_at >= period.start,
        Outbox.created_at < period.end,
    )
    if department_id is not None:
        query = query.join(Ticket, Ticket.id == Outbox.ticket_id).where(
            Ticket.department_id == department_id
        )
    return int(await session.scalar(query) or 0)


async def department_by_code(session: AsyncSession, estate_id: int, code: str) -> Department | None:
    return await session.scalar(
        select(Department).where(
            Department.estate_id == estate_id, func.lower(Department.code) == code.lower()
        )
    )


async def department_codes(session: AsyncSession, estate_id: int) -> list[str]:
    return list(
        (
            await session.scalars(
                select(Department.code)
                .where(Department.estate_id == estate_id, Department.active.is_(True))
                .order_by(Department.code)
            )
        ).all()
    )


# ---- the use case --------------------------------------------------------------------------
@dataclass
class Request:
    """A parsed ``/stats`` (or ``/export``, ``/report``) argument list, or why it is wrong."""

    period: Period | None = None
    department_id: int | None = None
    department_name: str | None = None
    error: str | None = None


async def parse_request(
    session: AsyncSession,
    estate: Estate,
    args: str,
    now: datetime,
    default: str,
    _: Any,
    allow_department: bool = True,
) -> Request:
    words = args.split()
    period: Period | None = None
    request = Request()
    for word in words:
        candidate = parse_period(word, now, estate.timezone)
        if candidate is not None and period is None:
            period = candidate
            continue
        department = (
            await department_by_code(session, estate.id, word) if allow_department else None
        )
        if department is None or request.department_id is not None:
            known = ", ".join(await department_codes(session, estate.id))
            request.error = console_texts.bad_argument(_, word, known if allow_department else "")
            return request
        request.department_id, request.department_name = department.id, department.name
    request.period = period or parse_period(default, now, estate.timezone)
    return request


class StatsService(Service):
    async def stats(self, estate_id: int, args: str, locale: str) -> list[str]:
        """The ``/stats`` answer as message parts (each under Telegram's limit)."""
        _ = self.tr(locale)
        async with self.transaction() as session:
            estate = await session.get(Estate, estate_id)
            assert estate is not None
            now = self.deps.clock.now()
            request = await parse_request(session, estate, args, now, "week", _)
            if request.error is not None or request.period is None:
                return [request.error or console_texts.stats_usage(_)]
            figures = await compute(
                session,
                estate.id,
                request.period,
                now,
                department_id=request.department_id,
                department_name=request.department_name,
                locale=locale,
                none_label=_("(none)"),
            )
            ctx = EstateContext.of(estate)
            return console_texts.pack(console_texts.stats(_, figures, ctx.name))
