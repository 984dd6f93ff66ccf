"""Files for managers: the raw requests of a period (CSV or XLSX), and the report (PNG charts
drawn with matplotlib's Agg backend, plus an XLSX workbook with a sheet per view).

Aggregates come from the database (GROUP BY; see ``bot.services.stats`` for the definitions);
only the raw sheet and the raw export read the period's requests row by row, streamed.
Days are local days of the estate: timestamps are counted in 15-minute UTC slots by the
database and the slots folded into local days here, which is exact across DST changes.
"""

import asyncio
import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.kinds import TicketKind
from bot.i18n import Gettext
from bot.services import stats
from bot.services.base import Service
from bot.services.stats import Period, Share, Timing
from bot.ui import console_texts
from bot.ui.console_texts import ComplaintFigures
from storage.dialects import dialect_of
from storage.models import Building, Category, Department, Estate, Flat, Poll, Staff, Ticket

XLSX_MAX_ROWS = 1_048_575  # Excel's limit, less the header
TOP_CATEGORIES = 10
QUARTER_WORDS = ("quarter", "last-quarter", "lastquarter")
REPORT_WORDS = (
    "week",
    "month",
    "quarter",
    "last-week",
    "last-month",
    "last-quarter",
    "lastweek",
    "lastmonth",
    "lastquarter",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class FileOut:
    filename: str
    data: bytes
    caption: str


@dataclass
class Chart:
    key: str
    title: str
    png: bytes


@dataclass
class ReportOut:
    caption: str
    summary: list[str]
    charts: list[Chart]
    workbook: FileOut


@dataclass
class ReportData:
    period: Period
    estate: str
    total: int
    per_day: dict[date, dict[str, int]]
    sla: list[tuple[str, dict[str, Share]]]
    satisfaction: list[tuple[date, Share]]  # per day, or per week (Monday) for long periods
    categories: list[tuple[str, int]]
    complaints: ComplaintFigures | None
    labels: dict[str, Any] = field(default_factory=dict)


# ---- raw rows ------------------------------------------------------------------------------
async def _names(session: AsyncSession, estate_id: int, locale: str) -> dict[str, dict[int, str]]:
    categories = (
        await session.scalars(select(Category).where(Category.estate_id == estate_id))
    ).all()
    departments = (
        await session.execute(
            select(Department.id, Department.name).where(Department.estate_id == estate_id)
        )
    ).all()
    buildings = (
        await session.execute(
            select(Building.id, Building.name).where(Building.estate_id == estate_id)
        )
    ).all()
    return {
        "category": {c.id: c.label(locale) for c in categories},
        "department": {i: n for i, n in departments},
        "building": {i: n for i, n in buildings},
    }


def _raw_query(where: Sequence[ColumnElement[bool]]) -> Any:
    return (
        select(
            Ticket.number,
            Ticket.kind,
            Ticket.category_id,
            Ticket.department_id,
            Ticket.building_id,
            Flat.label,
            Ticket.place,
            Ticket.place_text,
            Ticket.emergency,
            Ticket.status,
            Ticket.created_at,
            Ticket.claimed_at,
            Ticket.on_site_at,
            Ticket.resolved_at,
            Ticket.closed_at,
            Ticket.claim_due_at,
            Ticket.on_site_due_at,
            Ticket.resolve_due_at,
            Staff.name,
            Poll.overall,
            Poll.attitude,
            Poll.quality,
            Poll.timeliness,
            Ticket.description,
        )
        .select_from(Ticket)
        .outerjoin(Flat, Flat.id == Ticket.flat_id)
        .outerjoin(Staff, Staff.id == Ticket.assignee_id)
        .outerjoin(Poll, Poll.ticket_id == Ticket.id)
        .where(*where)
        .order_by(Ticket.created_at, Ticket.id)
        .execution_options(yield_per=2000)
    )


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def _raw_values(row: Any, names: dict[str, dict[int, str]], zone: ZoneInfo) -> list[Any]:
    (
        number,
        kind,
        category_id,
        department_id,
        building_id,
        flat,
        place,
        place_text,
        emergency,
        status,
        *moments_and_rest,
    ) = row
    moments = moments_and_rest[:8]
    assignee, overall, attitude, quality, timeliness, description = moments_and_rest[8:]
    return [
        number,
        kind,
        names["category"].get(category_id, "") if category_id else "",
        names["department"].get(department_id, ""),
        names["building"].get(building_id, "") if building_id else "",
        flat or "",
        place_text if place == "common" and place_text else "",
        1 if emergency else 0,
        status,
        *[_local(m, zone) for m in moments],
        assignee or "",
        overall,
        attitude,
        quality,
        timeliness,
        description or "",
    ]


def safe_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


class _Sheet:
    """A write-only worksheet that never turns text into a formula or chokes on control
    characters."""

    def __init__(self, workbook: Any, title: str) -> None:
        self.sheet = workbook.create_sheet(title=_sheet_title(title))
        self.rows = 0

    def append(self, values: Iterable[Any], bold: bool = False) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Font

        cells = []
        for value in values:
            if isinstance(value, str):
                cell = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(self.sheet, value=value)
                if isinstance(value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
            if bold:
                cell.font = Font(bold=True)
            cells.append(cell)
        self.sheet.append(cells)
        self.rows += 1


def _sheet_title(title: str) -> str:
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'")
    return clean[:31] or "Sheet"


def _new_workbook() -> Any:
    # Imported on first use, as matplotlib is: openpyxl costs ~16 MB that most processes
    # never need.
    from openpyxl import Workbook

    return Workbook(write_only=True)


def _save(workbook: Any) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- aggregates for the report -------------------------------------------------------------
async def per_day(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], period: Period, dialect: str
) -> dict[date, dict[str, int]]:
    sub = (
        select(
            stats.slot(Ticket.created_at, period, dialect).label("slot"), Ticket.kind.label("kind")
        )
        .where(*where)
        .subquery()
    )
    rows = (
        await session.execute(
            select(sub.c.slot, sub.c.kind, func.count()).group_by(sub.c.slot, sub.c.kind)
        )
    ).all()
    days: dict[date, dict[str, int]] = {day: defaultdict(int) for day in period.days}
    for index, kind, count in rows:
        days[stats.slot_day(period, index)][kind] += int(count)
    return {day: dict(counts) for day, counts in days.items()}


async def satisfaction_trend(
    session: AsyncSession, estate_id: int, period: Period, dialect: str, weekly: bool
) -> list[tuple[date, Share]]:
    sub = (
        select(
            stats.slot(Poll.answered_at, period, dialect).label("slot"),
            Poll.overall.label("overall"),
        )
        .join(Ticket, Ticket.id == Poll.ticket_id)
        .where(
            Ticket.estate_id == estate_id,
            Poll.overall.is_not(None),
            Poll.answered_at >= period.start,
            Poll.answered_at < period.end,
        )
        .subquery()
    )
    hits = func.coalesce(func.sum(case((sub.c.overall >= stats.SATISFIED_FROM, 1), else_=0)), 0)
    rows = (
        await session.execute(select(sub.c.slot, hits, func.count()).group_by(sub.c.slot))
    ).all()
    buckets: dict[date, list[int]] = {}
    for day in period.days:
        key = day - timedelta(days=day.weekday()) if weekly else day
        buckets.setdefault(key, [0, 0])
    for index, hit, count in rows:
        day = stats.slot_day(period, index)
        key = day - timedelta(days=day.weekday()) if weekly else day
        buckets[key][0] += int(hit)
        buckets[key][1] += int(count)
    return [(key, Share(h, n)) for key, (h, n) in sorted(buckets.items())]


async def sla_by_department(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], now: datetime
) -> list[tuple[str, dict[str, Share]]]:
    rows = (
        await session.execute(
            select(Department.name, *stats.compliance_columns(now))
            .select_from(Ticket)
            .join(Department, Department.id == Ticket.department_id)
            .where(*where)
            .group_by(Department.id, Department.name)
            .order_by(Department.name)
        )
    ).all()
    found = []
    for row in rows:
        shares = {
            name: Share(int(row[1 + 2 * i]), int(row[2 + 2 * i]))
            for i, (name, _d, _u) in enumerate(stats.STEPS)
        }
        found.append((str(row[0]), shares))
    return found


async def complaint_figures(
    session: AsyncSession, estate_id: int, period: Period, locale: str, none: str
) -> ComplaintFigures:
    where = [*stats.cohort(estate_id, period, None), Ticket.kind == TicketKind.COMPLAINT.value]
    total = int(await session.scalar(select(func.count(Ticket.id)).where(*where)) or 0)
    by_category = await stats.labelled(
        session, Category, await stats.breakdown(session, Ticket.category_id, where), locale, none
    )
    by_building = await stats.labelled(
        session, Building, await stats.breakdown(session, Ticket.building_id, where), locale, none
    )
    per_resident = (
        select(Ticket.resident_id.label("resident"), func.count(Ticket.id).label("n"))
        .where(*where, Ticket.resident_id.is_not(None))
        .group_by(Ticket.resident_id)
        .having(func.count(Ticket.id) >= 2)
        .subquery()
    )
    residents, complaints = (
        await session.execute(select(func.count(), func.coalesce(func.sum(per_resident.c.n), 0)))
    ).one()
    answered = int(
        await session.scalar(
            select(func.count(Ticket.id)).where(*where, Ticket.resolved_at.is_not(None))
        )
        or 0
    )
    timings = {}
    for name, step in (("acknowledge", "claimed_at"), ("answer", "resolved_at")):
        value = stats.step_duration(step)
        n, (median, p90) = await stats.percentiles(session, value, [*where, value.is_not(None)])
        timings[name] = Timing(n, median, p90)
    return ComplaintFigures(
        total=total,
        by_category=by_category,
        by_building=by_building,
        repeat_residents=int(residents),
        repeat_complaints=int(complaints),
        answered=answered,
        acknowledge=timings["acknowledge"],
        answer=timings["answer"],
    )


# ---- drawing -------------------------------------------------------------------------------
# Chinese labels need a CJK font on the host (e.g. Debian's fonts-noto-cjk); matplotlib falls
# back through this list, glyph by glyph, and uses DejaVu Sans for everything else.
FONT_FAMILIES = [
    "DejaVu Sans",
    "Noto Sans CJK SC",
    "Noto Sans CJK TC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
]


def _figure(title: str, wide: bool = True) -> tuple[Any, Any]:
    import logging

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    matplotlib.rcParams["font.family"] = FONT_FAMILIES
    logging.getLogger("matplotlib.font_manager").setLevel(
        logging.ERROR
    )  # missing fallbacks are fine

    figure = Figure(figsize=(11, 5.5) if wide else (9, 6), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.set_title(title, fontsize=14, fontweight="bold")
    return figure, axes


def _png(figure: Any, title: str) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", metadata={"Title": title, "Software": "frontdoor"})
    return buffer.getvalue()


def _no_data(axes: Any, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, fontsize=13)
    axes.set_xticks([])
    axes.set_yticks([])


def _day_ticks(axes: Any, days: Sequence[date]) -> None:
    step = max(1, len(days) // 15)
    positions = list(range(0, len(days), step))
    axes.set_xticks(positions)
    axes.set_xticklabels([days[i].strftime("%d.%m") for i in positions], rotation=45, ha="right")


def draw(data: ReportData) -> list[Chart]:
    """Every chart of the report, as PNG (runs in a worker thread: no pyplot, no shared state)."""
    labels = data.labels
    titles: dict[str, str] = labels["titles"]
    charts = [
        Chart("per_day", titles["per_day"], _draw_per_day(data, titles["per_day"])),
        Chart("sla", titles["sla"], _draw_sla(data, titles["sla"])),
        Chart(
            "satisfaction", titles["satisfaction"], _draw_satisfaction(data, titles["satisfaction"])
        ),
        Chart(
            "categories",
            titles["categories"],
            _draw_bars(data.categories, titles["categories"], labels),
        ),
    ]
    if data.complaints is not None:
        charts.append(
            Chart(
                "complaints",
                titles["complaints"],
                _draw_bars(data.complaints.by_category, titles["complaints"], labels),
            )
        )
    return charts


def _draw_per_day(data: ReportData, title: str) -> bytes:
    figure, axes = _figure(title)
    days = sorted(data.per_day)
    kinds: dict[str, str] = data.labels["kinds"]
    bottom = [0] * len(days)
    drawn = False
    for kind, name in kinds.items():
        values = [data.per_day[day].get(kind, 0) for day in days]
        if any(values):
            axes.bar(range(len(days)), values, bottom=bottom, label=name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            drawn = True
    if drawn:
        axes.legend(loc="upper left")
        axes.set_ylabel(data.labels["requests"])
        _day_ticks(axes, days)
    else:
        _no_data(axes, data.labels["no_data"])
    return _png(figure, title)


def _draw_sla(data: ReportData, title: str) -> bytes:
    figure, axes = _figure(title)
    steps: dict[str, str] = data.labels["steps"]
    departments = [name for name, _shares in data.sla]
    if not departments:
        _no_data(axes, data.labels["no_data"])
        return _png(figure, title)
    width = 0.8 / len(steps)
    for i, (step, name) in enumerate(steps.items()):
        values = [shares[step].percent or 0.0 for _n, shares in data.sla]
        positions = [d + (i - 1) * width for d in range(len(departments))]
        axes.bar(positions, values, width=width, label=name)
    axes.axhline(100, color="grey", linewidth=0.8, linestyle="--")
    axes.set_ylim(0, 110)
    axes.set_ylabel("%")
    axes.set_xticks(list(range(len(departments))))
    axes.set_xticklabels(departments, rotation=20, ha="right")
    axes.legend(loc="lower right")
    return _png(figure, title)


def _draw_satisfaction(data: ReportData, title: str) -> bytes:
    figure, axes = _figure(title)
    points = [(day, share) for day, share in data.satisfaction if share.total]
    if not points:
        _no_data(axes, data.labels["no_data"])
        return _png(figure, title)
    xs = list(range(len(points)))
    axes.plot(xs, [share.percent for _d, share in points], marker="o")
    for x, (_day, share) in zip(xs, points, strict=True):
        axes.annotate(
            str(share.total),
            (x, share.percent or 0),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    axes.axhline(95, color="green", linewidth=1, linestyle="--", label=data.labels["target"])
    axes.set_ylim(0, 105)
    axes.set_ylabel("%")
    axes.set_xticks(xs)
    axes.set_xticklabels([d.strftime("%d.%m") for d, _s in points], rotation=45, ha="right")
    axes.legend(loc="lower left")
    return _png(figure, title)


def _draw_bars(rows: Sequence[tuple[str, int]], title: str, labels: dict[str, Any]) -> bytes:
    figure, axes = _figure(title, wide=False)
    rows = list(rows)[:TOP_CATEGORIES]
    if not rows:
        _no_data(axes, labels["no_data"])
        return _png(figure, title)
    names = [name for name, _n in reversed(rows)]
    counts = [n for _name, n in reversed(rows)]
    axes.barh(range(len(rows)), counts)
    axes.set_yticks(list(range(len(rows))))
    axes.set_yticklabels(names)
    axes.set_xlabel(labels["requests"])
    return _png(figure, title)


# ---- the use cases ---------------------------------------------------------------------------
def chart_labels(_: Gettext) -> dict[str, Any]:
    return {
        "titles": console_texts.chart_titles(_),
        "sheets": console_texts.sheet_titles(_),
        "kinds": console_texts.kind_names(_),
        "steps": console_texts.step_names(_),
        "requests": _("Requests"),
        "no_data": _("no data"),
        "target": _("Target 95%"),
    }


class ReportService(Service):
    async def export(self, estate_id: int, fmt: str, args: str, locale: str) -> FileOut | str:
        """The period's requests as CSV or XLSX, or a text saying what is wrong."""
        _ = self.tr(locale)
        fmt = fmt.lower()
        if fmt not in ("csv", "xlsx"):
            return console_texts.export_usage(_)
        async with self.transaction() as session:
            estate = await session.get(Estate, estate_id)
            assert estate is not None
            now = self.deps.clock.now()
            request = await stats.parse_request(session, estate, args, now, "month", _)
            if request.error is not None or request.period is None:
                return request.error or console_texts.export_usage(_)
            period = request.period
            where = stats.cohort(estate.id, period, request.department_id)
            count = int(await session.scalar(select(func.count(Ticket.id)).where(*where)) or 0)
            if fmt == "xlsx" and count > XLSX_MAX_ROWS:
                return console_texts.too_many_rows(_, count)
            names = await _names(session, estate.id, locale)
            zone = ZoneInfo(estate.timezone)
            header = console_texts.raw_columns(_)
            stream = await session.stream(_raw_query(where))
            if fmt == "csv":
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                writer.writerow(header)
                async for row in stream:
                    writer.writerow([_csv_cell(v) for v in _raw_values(row, names, zone)])
                data = ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads UTF-8
            else:
                workbook = _new_workbook()
                sheet = _Sheet(workbook, console_texts.sheet_titles(_)["raw"])
                sheet.append(header, bold=True)
                async for row in stream:
                    sheet.append(_raw_values(row, names, zone))
                data = await asyncio.to_thread(_save, workbook)
            name = (
                f"requests-{estate.slug}-{period.first.isoformat()}-{period.last.isoformat()}.{fmt}"
            )
            return FileOut(name, data, console_texts.export_caption(_, count, period.label))

    async def report(self, estate_id: int, args: str, locale: str) -> ReportOut | str:
        _ = self.tr(locale)
        words = args.split()
        if len(words) != 1 or words[0].lower() not in REPORT_WORDS:
            return console_texts.report_usage(_)
        word = words[0].lower()
        async with self.transaction() as session:
            estate = await session.get(Estate, estate_id)
            assert estate is not None
            now = self.deps.clock.now()
            period = stats.parse_period(word, now, estate.timezone)
            assert period is not None
            dialect = dialect_of(session)
            where = stats.cohort(estate.id, period, None)
            none = _("(none)")
            total = int(await session.scalar(select(func.count(Ticket.id)).where(*where)) or 0)
            weekly = len(period.days) > 31
            data = ReportData(
                period=period,
                estate=estate.name,
                total=total,
                per_day=await per_day(session, where, period, dialect),
                sla=await sla_by_department(session, where, now),
                satisfaction=await satisfaction_trend(session, estate.id, period, dialect, weekly),
                categories=await stats.labelled(
                    session,
                    Category,
                    await stats.breakdown(session, Ticket.category_id, where, TOP_CATEGORIES),
                    locale,
                    none,
                ),
                complaints=await complaint_figures(session, estate.id, period, locale, none)
                if word in QUARTER_WORDS
                else None,
                labels=chart_labels(_),
            )
            all_categories = await stats.labelled(
                session,
                Category,
                await stats.breakdown(session, Ticket.category_id, where),
                locale,
                none,
            )
            names = await _names(session, estate.id, locale)
            zone = ZoneInfo(estate.timezone)
            workbook = _new_workbook()
            self._view_sheets(_, workbook, data, all_categories)
            raw = _Sheet(workbook, data.labels["sheets"]["raw"])
            raw.append(console_texts.raw_columns(_), bold=True)
            stream = await session.stream(_raw_query(where))
            async for row in stream:
                raw.append(_raw_values(row, names, zone))
        charts = await asyncio.to_thread(draw, data)
        content = await asyncio.to_thread(_save, workbook)
        name = f"report-{estate.slug}-{period.first.isoformat()}-{period.last.isoformat()}.xlsx"
        caption = console_texts.report_caption(_, data.estate, period.label, total)
        summary = [caption]
        if data.complaints is not None:
            summary += console_texts.complaints_summary(_, data.complaints)
        return ReportOut(caption, summary, charts, FileOut(name, content, caption))

    async def invitation_images(
        self, target: Any, links: Sequence[tuple[str, str]], sheet: bool, locale: str
    ) -> list[FileOut]:
        """PNG files for invitations: one QR code, or printable sheets for a building."""
        if not links:
            return []
        async with self.transaction() as session:
            estate = await session.scalar(
                select(Estate.name)
                .join(Building, Building.estate_id == Estate.id)
                .join(Flat, Flat.building_id == Building.id)
                .where(Flat.id == target.flats[0][0])
            )
        return await _invitation_files(self.tr(locale), estate or "", target, links, sheet)

    @staticmethod
    def _view_sheets(
        _: Gettext, workbook: Any, data: ReportData, categories: list[tuple[str, int]]
    ) -> None:
        sheets = data.labels["sheets"]
        kinds: dict[str, str] = data.labels["kinds"]
        days = _Sheet(workbook, sheets["per_day"])
        days.append([_("Date"), *kinds.values(), _("Total")], bold=True)
        for day in sorted(data.per_day):
            counts = [data.per_day[day].get(kind, 0) for kind in kinds]
            days.append([day.isoformat(), *counts, sum(counts)])

        sla = _Sheet(workbook, sheets["sla"])
        header = [_("Department")]
        for name in data.labels["steps"].values():
            header += [name, _("Met"), _("Decided")]
        sla.append(header, bold=True)
        for department, shares in data.sla:
            row: list[Any] = [department]
            for step in data.labels["steps"]:
                share = shares[step]
                row += [
                    None if share.percent is None else round(share.percent, 1),
                    share.hits,
                    share.total,
                ]
            sla.append(row)

        satisfaction = _Sheet(workbook, sheets["satisfaction"])
        satisfaction.append([_("Date"), _("Answers"), _("Rated 4–5"), _("Share, %")], bold=True)
        for day, share in data.satisfaction:
            satisfaction.append(
                [
                    day.isoformat(),
                    share.total,
                    share.hits,
                    None if share.percent is None else round(share.percent, 1),
                ]
            )

        top = _Sheet(workbook, sheets["categories"])
        top.append([_("Category"), _("Requests")], bold=True)
        for name, count in categories:
            top.append([name, count])

        if data.complaints is not None:
            c = data.complaints
            sheet = _Sheet(workbook, sheets["complaints"])
            sheet.append([_("Complaints"), c.total], bold=True)
            sheet.append([])
            sheet.append([_("Category"), _("Complaints")], bold=True)
            for name, count in c.by_category:
                sheet.append([name, count])
            sheet.append([])
            sheet.append([_("Building"), _("Complaints")], bold=True)
            for name, count in c.by_building:
                sheet.append([name, count])
            sheet.append([])
            sheet.append([_("Repeat complainants"), c.repeat_residents])
            sheet.append([_("Their complaints"), c.repeat_complaints])
            sheet.append([_("Answered"), c.answered])
            sheet.append(
                [_("Answered, %"), None if c.total == 0 else round(100.0 * c.answered / c.total, 1)]
            )
            sheet.append([])
            sheet.append([_("Hours"), _("Median"), _("90th percentile")], bold=True)
            for label, timing in (
                (_("Time to acknowledge"), c.acknowledge),
                (_("Time to answer"), c.answer),
            ):
                sheet.append(
                    [
                        label,
                        None if timing.median is None else round(timing.median / 3600, 2),
                        None if timing.p90 is None else round(timing.p90 / 3600, 2),
                    ]
                )


# ---- invitation QR codes -------------------------------------------------------------------
SHEET_SIZE = (1240, 1754)  # A4 at 150 dpi
SHEET_GRID = (3, 4)
SHEET_MARGIN = 60
SHEET_HEADER = 90


def _font(size: int) -> Any:
    from pathlib import Path

    import matplotlib
    from PIL import ImageFont

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:
        return ImageFont.load_default()


def _qr_image(link: str) -> Any:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(link)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _centered(draw: Any, box: tuple[int, int, int], text: str, font: Any) -> None:
    left, top, width = box
    length = draw.textlength(text, font=font)
    while length > width and len(text) > 4:
        text = text[:-2] + "…"
        length = draw.textlength(text, font=font)
    draw.text((left + (width - length) / 2, top), text, fill="black", font=font)


def qr_png(link: str, label: str) -> bytes:
    """One invitation: the QR code with its flat written under it."""
    from PIL import Image, ImageDraw

    code = _qr_image(link)
    image = Image.new("RGB", (code.width, code.height + 60), "white")
    image.paste(code, (0, 0))
    _centered(ImageDraw.Draw(image), (10, code.height, code.width - 20), label, _font(28))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_sheets(title: str, subtitle: str, entries: Sequence[tuple[str, str]]) -> list[bytes]:
    """Printable A4 pages of invitations: (label, link) in a grid, twelve to a page."""
    from PIL import Image, ImageDraw

    columns, rows = SHEET_GRID
    per_page = columns * rows
    width, height = SHEET_SIZE
    cell_w = (width - 2 * SHEET_MARGIN) // columns
    cell_h = (height - 2 * SHEET_MARGIN - SHEET_HEADER) // rows
    side = min(cell_w - 30, cell_h - 70)
    pages = []
    for start in range(0, len(entries), per_page):
        page = Image.new("RGB", SHEET_SIZE, "white")
        draw = ImageDraw.Draw(page)
        _centered(
            draw, (SHEET_MARGIN, SHEET_MARGIN - 20, width - 2 * SHEET_MARGIN), title, _font(36)
        )
        _centered(
            draw, (SHEET_MARGIN, SHEET_MARGIN + 28, width - 2 * SHEET_MARGIN), subtitle, _font(22)
        )
        for index, (label, link) in enumerate(entries[start : start + per_page]):
            column, row = index % columns, index // columns
            left = SHEET_MARGIN + column * cell_w
            top = SHEET_MARGIN + SHEET_HEADER + row * cell_h
            code = _qr_image(link).resize((side, side), Image.Resampling.NEAREST)
            page.paste(code, (left + (cell_w - side) // 2, top))
            _centered(draw, (left + 5, top + side + 8, cell_w - 10), label, _font(26))
            draw.rectangle(
                (left, top - 10, left + cell_w - 1, top + cell_h - 20), outline="#bbbbbb"
            )
        buffer = io.BytesIO()
        page.save(buffer, format="PNG", dpi=(150, 150))
        pages.append(buffer.getvalue())
    return pages


async def _invitation_files(
    _: Gettext, estate: str, target: Any, links: Sequence[tuple[str, str]], sheet: bool
) -> list[FileOut]:
    labels = [(console_texts.sheet_label(_, target.building, flat), link) for flat, link in links]
    if not sheet:
        label, link = labels[0]
        png = await asyncio.to_thread(qr_png, link, label)
        flat = links[0][0]
        caption = console_texts.invite_caption(_, target.building, flat, link, target.expires)
        return [FileOut(f"invite-{_slug(target.building)}-{_slug(flat)}.png", png, caption)]
    title = f"{estate} · {target.building}"
    subtitle = console_texts.sheet_subtitle(_, target.expires)
    pages = await asyncio.to_thread(qr_sheets, title, subtitle, labels)
    return [
        FileOut(
            f"invites-{_slug(target.building)}-{number}.png",
            page,
            console_texts.invite_sheet_caption(
                _, target.building, len(links), number, len(pages), target.expires
            ),
        )
        for number, page in enumerate(pages, start=1)
    ]


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-").lower() or "x"
