"""Read an estate file (TOML) into an :class:`~bot.estate.spec.EstateSpec`, or say what is wrong.

Every problem found is collected as an :class:`EstateIssue` naming the file, the line, the
dotted key and what is wrong; :class:`EstateFileError` carries them all. Line numbers of
semantic problems come from a light scan of the source text that maps each key path (for
example ``categories[3].department``, the ``department`` key of the fourth ``[[categories]]``)
to the line where it is written.
"""

import csv
import difflib
import io
import re
import tomllib
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.kinds import Hazard, Priority, TicketKind
from bot.domain.permissions import Role
from bot.domain.spans import Span, parse_span
from bot.estate.spec import (
    DEFAULT_QUIET_WINDOWS,
    DEFAULT_STANDARDS,
    LANGUAGES,
    BuildingSpec,
    CalendarSpec,
    CategorySpec,
    ClockSpec,
    DepartmentSpec,
    EstateSpec,
    ResidentSpec,
    StaffSpec,
    StandardName,
    StandardSpec,
    normalise_phone,
)

KeyPart = str | int
Key = tuple[KeyPart, ...]

_E = TypeVar("_E", bound=StrEnum)

_BARE_KEY: Final = re.compile(r"[A-Za-z0-9_-]+")
_SLUG: Final = re.compile(r"[a-z0-9-]+")
_CODE: Final = re.compile(r"[a-z0-9_]+")
_BUILDING_CODE: Final = re.compile(r"[A-Za-z0-9_-]+")
_FLAT_RANGE: Final = re.compile(r"(\d+)\s*-\s*(\d+)")
_CLOCK: Final = re.compile(r"(\d{1,2}):(\d{2})")
_CLOCK_RANGE: Final = re.compile(r"(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})")
_TOML_POSITION: Final = re.compile(r"\(at line (\d+), column (\d+)\)")

_MAX_FLATS_PER_RANGE: Final = 5000
_MAX_CODE: Final = 32
_MAX_BUILDING_CODE: Final = 8
_MAX_FLAT: Final = 16
_MAX_KNOWN_LISTED: Final = 12

_WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS: Final = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

_ROOT_KEYS: Final = (
    "estate",
    "calendar",
    "quiet_hours",
    "standards",
    "clock",
    "buildings",
    "departments",
    "categories",
    "staff",
    "residents_csv",
    "residents",
)
_ESTATE_KEYS: Final = (
    "slug",
    "name",
    "timezone",
    "language",
    "managers_chat_id",
    "customer_service",
    "max_open_requests",
    "invite_ttl",
    "emergency_numbers",
)
_CALENDAR_KEYS: Final = ("weekdays", "hours", "holidays")
_QUIET_KEYS: Final = ("windows",)
_LIMIT_KEYS: Final = ("claim", "on_site", "resolve")
_CLOCK_SPANS: Final = (
    "resolved_reminder",
    "auto_close",
    "poll_reminder",
    "poll_expiry",
    "callback_due",
    "tick",
)
_BUILDING_KEYS: Final = ("code", "name", "flats")
_DEPARTMENT_KEYS: Final = ("code", "name", "chat_id", "thread_id")
_CATEGORY_KEYS: Final = (
    "code",
    "name",
    "names",
    "kind",
    "department",
    "priority",
    "emergency",
    "hazard",
    "simple",
    "standard",
)
_STAFF_KEYS: Final = ("telegram_id", "name", "role", "departments", "language")
_RESIDENT_KEYS: Final = ("name", "phone", "building", "flat")


# --------------------------------------------------------------------------------------------
# Issues


def render_key(key: Key) -> str:
    """``("categories", 3, "department")`` → ``categories[3].department``."""
    out: list[str] = []
    for part in key:
        if isinstance(part, int):
            out.append(f"[{part}]")
            continue
        name = part if _BARE_KEY.fullmatch(part) else _quote(part)
        out.append(f".{name}" if out else name)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class EstateIssue:
    """One problem: where it is (file, line, dotted key) and what is wrong."""

    path: str  # the estate file, or the residents CSV, as given
    line: int | None
    key: str  # dotted, e.g. "categories[3].department"; a CSV column; "" for the whole file
    message: str
    column: int | None = None  # only for TOML syntax errors

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class EstateFileError(Exception):
    """The estate file could not be loaded; ``errors`` lists every problem found."""

    def __init__(self, errors: list[EstateIssue]) -> None:
        self.errors = list(errors)
        count = len(self.errors)
        heading = "1 problem" if count == 1 else f"{count} problems"
        super().__init__(
            "\n".join([f"estate file has {heading}:", *(f"  {e}" for e in self.errors)])
        )


# --------------------------------------------------------------------------------------------
# Public entry points


def load_estate(path: Path) -> EstateSpec:
    """Load and validate an estate file; ``residents_csv`` is read relative to its folder."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        reason = error.strerror or str(error)
        raise EstateFileError(
            [EstateIssue(str(path), None, "", f"cannot read: {reason}")]
        ) from None
    except UnicodeDecodeError as error:
        raise EstateFileError(
            [EstateIssue(str(path), None, "", f"not UTF-8 text ({error.reason})")]
        ) from None
    return parse_estate(text, source=str(path), base_dir=path.parent)


def parse_estate(text: str, source: str = "<string>", base_dir: Path | None = None) -> EstateSpec:
    """Validate estate-file text; ``source`` names it in issues, ``base_dir`` anchors paths
    in it (the current directory when ``None``)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        match = _TOML_POSITION.search(message)
        if match is not None:
            line: int | None = int(match.group(1))
            column: int | None = int(match.group(2))
        else:
            line, column = max(1, text.count("\n") + (0 if text.endswith("\n") else 1)), None
        issue = EstateIssue(source, line, "", f"TOML syntax error: {message}", column)
        raise EstateFileError([issue]) from None
    return _Validator(text, source, base_dir or Path()).run(data)


# --------------------------------------------------------------------------------------------
# Where keys are written


class _KeyLines:
    """Maps key paths to the line where they first appear in (syntactically valid) TOML text.

    A small scanner, not a parser: it tracks tables, arrays of tables (counting occurrences of
    each ``[[header]]``), dotted keys, inline tables and array elements. It is only run on
    text that ``tomllib`` accepted; if it is confused anyway it keeps what it found so far.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._newlines = [i for i, c in enumerate(text) if c == "\n"]
        self._lines: dict[Key, int] = {}
        try:
            self._document()
        except (IndexError, ValueError, tomllib.TOMLDecodeError):
            pass

    def line_of(self, key: Key) -> int | None:
        """The line of ``key``, or of its nearest ancestor that is written down."""
        for length in range(len(key), 0, -1):
            line = self._lines.get(key[:length])
            if line is not None:
                return line
        return None

    # -- scanning

    def _record(self, key: Key, pos: int) -> None:
        self._lines.setdefault(key, bisect_right(self._newlines, pos - 1) + 1)

    def _document(self) -> None:
        text = self._text
        current: Key = ()
        arrays: dict[Key, int] = {}
        while True:
            self._skip(newlines=True)
            if self._pos >= len(text):
                return
            start = self._pos
            if text[start] == "[":
                double = text.startswith("[[", start)
                self._pos += 2 if double else 1
                names = self._key()
                self._skip()
                closing = "]]" if double else "]"
                if not text.startswith(closing, self._pos):
                    raise ValueError("unterminated header")
                self._pos += len(closing)
                current = self._resolve(names, arrays, double)
                self._record(current, start)
                if double:
                    self._record(current[:-1], start)  # the array itself: its first header
            else:
                names = self._key()
                self._expect("=")
                for length in range(1, len(names) + 1):
                    self._record(current + names[:length], start)
                self._value(current + names)

    @staticmethod
    def _resolve(names: Key, arrays: dict[Key, int], double: bool) -> Key:
        path: list[KeyPart] = []
        for i, name in enumerate(names):
            path.append(name)
            here = tuple(path)
            if double and i == len(names) - 1:
                index = arrays.get(here, -1) + 1
                arrays[here] = index
                path.append(index)
            elif here in arrays:
                path.append(arrays[here])
        return tuple(path)

    def _skip(self, newlines: bool = False) -> None:
        text = self._text
        blank = " \t\r\n" if newlines else " \t"
        while self._pos < len(text):
            char = text[self._pos]
            if char in blank:
                self._pos += 1
            elif char == "#" and newlines:
                end = text.find("\n", self._pos)
                self._pos = len(text) if end < 0 else end
            else:
                return

    def _expect(self, char: str) -> None:
        self._skip()
        if self._text[self._pos] != char:
            raise ValueError(f"expected {char!r}")
        self._pos += 1

    def _key(self) -> Key:
        parts: list[KeyPart] = []
        while True:
            self._skip()
            start = self._pos
            char = self._text[start]
            if char in "\"'":
                self._string()
                raw = self._text[start : self._pos]
                value = tomllib.loads(f"k = {raw}")["k"]
                parts.append(str(value))
            else:
                match = _BARE_KEY.match(self._text, start)
                if match is None:
                    raise ValueError("expected a key")
                parts.append(match.group())
                self._pos = match.end()
            self._skip()
            if self._text[self._pos] != ".":
                return tuple(parts)
            self._pos += 1

    def _string(self) -> None:
        text = self._text
        pos = self._pos
        quote = text[pos]
        if text.startswith(quote * 3, pos):
            pos += 3
            while not text.startswith(quote * 3, pos):
                pos += 2 if quote == '"' and text[pos] == "\\" else 1
                if pos >= len(text):
                    raise ValueError("unterminated string")
            pos += 3
            extra = 0
            while extra < 2 and pos < len(text) and text[pos] == quote:
                pos, extra = pos + 1, extra + 1
        else:
            pos += 1
            while text[pos] != quote:
                pos += 2 if quote == '"' and text[pos] == "\\" else 1
            pos += 1
        self._pos = pos

    def _value(self, key: Key) -> None:
        self._skip()
        text = self._text
        char = text[self._pos]
        if char in "\"'":
            self._string()
        elif char == "[":
            self._pos += 1
            index = 0
            while True:
                self._skip(newlines=True)
                if text[self._pos] == "]":
                    self._pos += 1
                    return
                self._record((*key, index), self._pos)
                self._value((*key, index))
                self._skip(newlines=True)
                if text[self._pos] == ",":
                    self._pos += 1
                    index += 1
        elif char == "{":
            self._pos += 1
            while True:
                self._skip(newlines=True)
                if text[self._pos] == "}":
                    self._pos += 1
                    return
                start = self._pos
                names = self._key()
                self._expect("=")
                for length in range(1, len(names) + 1):
                    self._record(key + names[:length], start)
                self._value(key + names)
                self._skip(newlines=True)
                if text[self._pos] == ",":
                    self._pos += 1
        else:
            while self._pos < len(text) and text[self._pos] not in ",]}#\r\n":
                self._pos += 1


# --------------------------------------------------------------------------------------------
# Validation


class _Missing:
    pass


_MISSING: Final = _Missing()


def _quote(value: object) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return repr(value)


def _describe(value: object) -> str:
    """A value's TOML type, for messages such as "expected a string, got an integer (5)"."""
    if isinstance(value, bool):
        kind = "a boolean"
    elif isinstance(value, int):
        kind = "an integer"
    elif isinstance(value, float):
        kind = "a float"
    elif isinstance(value, str):
        kind = "a string"
    elif isinstance(value, datetime):
        kind = "a date-time"
    elif isinstance(value, date):
        kind = "a date"
    elif isinstance(value, time):
        kind = "a time"
    elif isinstance(value, list):
        return "an array"
    elif isinstance(value, dict):
        return "a table"
    else:
        return type(value).__name__
    return f"{kind} ({_quote(value) if isinstance(value, str) else value})"


def _known(what: str, names: Iterable[str]) -> str:
    listed = list(names)
    if not listed:
        return f"(no {what} are defined)"
    shown = ", ".join(listed[:_MAX_KNOWN_LISTED])
    return f"(known: {shown}{', ...' if len(listed) > _MAX_KNOWN_LISTED else ''})"


def _parse_clock(text: str) -> time | None:
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _parse_clock_range(text: str) -> tuple[time, time] | None:
    match = _CLOCK_RANGE.fullmatch(text.strip())
    if match is None:
        return None
    start, end = _parse_clock(match.group(1)), _parse_clock(match.group(2))
    if start is None or end is None:
        return None
    return start, end


def _minute_of_day(t: time) -> int:
    return t.hour * 60 + t.minute


def _covers_whole_day(windows: Sequence[tuple[time, time]]) -> bool:
    pieces: list[tuple[int, int]] = []
    for start, end in windows:
        s, e = _minute_of_day(start), _minute_of_day(end)
        pieces.extend([(s, e)] if s < e else [(s, 1440), (0, e)])
    reached = 0
    for s, e in sorted(pieces):
        if s > reached:
            return False
        reached = max(reached, e)
    return reached >= 1440


@dataclass(frozen=True, slots=True)
class _Head:
    """What ``[estate]`` says."""

    slug: str
    name: str
    timezone: str
    language: str
    managers_chat_id: int | None
    customer_service: str
    max_open_requests: int
    invite_ttl: Span
    emergency_numbers: Mapping[Hazard, str]


@dataclass(frozen=True, slots=True, eq=False)
class _Origin:
    """Where a resident entry was read from, to point at the first of two duplicates."""

    path: str
    near: str  # how to name it from the same file
    far: str  # how to name it from another file


class _Validator:
    def __init__(self, text: str, source: str, base_dir: Path) -> None:
        self.source = source
        self.base_dir = base_dir
        self.lines = _KeyLines(text)
        self.issues: list[EstateIssue] = []

    # -- reporting

    def error(self, key: Key, message: str) -> None:
        self.issues.append(
            EstateIssue(self.source, self.lines.line_of(key), render_key(key), message)
        )

    def where(self, key: Key) -> str:
        line = self.lines.line_of(key)
        return render_key(key) if line is None else f"{render_key(key)}, line {line}"

    def unknown(self, key: Key, value: str, what: str, known: Iterable[str]) -> None:
        self.error(key, f"unknown {what} {_quote(value)} {_known(what + 's', known)}")

    # -- the whole file

    def run(self, data: dict[str, object]) -> EstateSpec:
        root = _Table(self, (), data, _ROOT_KEYS)
        departments = self.departments(root)
        department_codes = [d.code for d in departments if d.code]
        buildings = self.buildings(root)
        categories = self.categories(root, department_codes)
        estate = self.estate(root, department_codes)
        calendar = self.calendar(root)
        quiet_hours = self.quiet_hours(root)
        standards = self.standards(root)
        clock = self.clock(root)
        staff = self.staff(root, department_codes)
        residents = self.residents(root, buildings)
        root.finish()
        if self.issues or estate is None:
            source = self.source
            self.issues.sort(key=lambda i: (i.path != source, i.path, i.line or 0))
            raise EstateFileError(self.issues)
        return EstateSpec(
            slug=estate.slug,
            name=estate.name,
            timezone=estate.timezone,
            language=estate.language,
            managers_chat_id=estate.managers_chat_id,
            customer_service=estate.customer_service,
            max_open_requests=estate.max_open_requests,
            invite_ttl=estate.invite_ttl,
            emergency_numbers=estate.emergency_numbers,
            buildings=tuple(buildings),
            departments=tuple(departments),
            categories=tuple(categories),
            calendar=calendar,
            quiet_hours=quiet_hours,
            standards=standards,
            clock=clock,
            staff=tuple(staff),
            residents=tuple(residents),
        )

    def entries(self, root: "_Table", name: str, allowed: Sequence[str]) -> list["_Table"]:
        """The tables of the array ``name`` (``[[name]]`` or an array of inline tables)."""
        items = root.array(name)
        tables: list[_Table] = []
        for index, item in enumerate(items or []):
            if isinstance(item, dict):
                tables.append(_Table(self, (name, index), item, allowed))
            else:
                self.error((name, index), f"expected a table, got {_describe(item)}")
        return tables

    def unique(self, seen: dict[object, Key], value: object, key: Key, what: str) -> None:
        first = seen.setdefault(value, key)
        if first != key:
            self.error(key, f"duplicate {what} {_quote(value)} (first used at {self.where(first)})")

    # -- [estate]

    def estate(self, root: "_Table", departments: list[str]) -> "_Head | None":
        if not root.present("estate"):
            root.problem("estate", "the [estate] table is missing")
            return None
        table = root.table("estate", allowed=_ESTATE_KEYS)
        if table is None:
            return None
        slug = table.text("slug", pattern=_SLUG, hint="lowercase letters, digits and '-'")
        name = table.text("name")
        timezone = table.text("timezone")
        if timezone is not None:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                table.problem(
                    "timezone",
                    f"unknown time zone {_quote(timezone)}: use an IANA name such as "
                    '"Europe/London"',
                )
        language = table.language("language", required=False) or "en"
        managers = table.integer("managers_chat_id", required=False, check=_chat_id)
        service = table.text("customer_service")
        if service is not None and service not in departments:
            self.unknown(("estate", "customer_service"), service, "department", departments)
        max_open = table.integer("max_open_requests", required=False, check=_positive)
        invite_ttl = table.span("invite_ttl", elapsed=True)
        numbers: dict[Hazard, str] = {}
        emergency = table.table("emergency_numbers", allowed=[h.value for h in Hazard])
        if emergency is not None:
            for hazard in Hazard:
                number = emergency.text(hazard.value, required=False)
                if number is None:
                    continue
                if not any(c.isdigit() for c in number):
                    emergency.problem(hazard.value, f"{_quote(number)} has no phone number in it")
                numbers[hazard] = number
            emergency.finish()
        table.finish()
        return _Head(
            slug=slug or "",
            name=name or "",
            timezone=timezone or "UTC",
            language=language,
            managers_chat_id=managers,
            customer_service=service or "",
            max_open_requests=10 if max_open is None else max_open,
            invite_ttl=invite_ttl or parse_span("7d"),
            emergency_numbers=MappingProxyType(numbers),
        )

    # -- [calendar], [quiet_hours], [standards], [clock]

    def calendar(self, root: "_Table") -> CalendarSpec:
        table = root.table("calendar", allowed=_CALENDAR_KEYS)
        default = CalendarSpec()
        if table is None:
            return default
        weekdays: set[int] = set(default.weekdays)
        names = table.array("weekdays")
        if names is not None:
            weekdays = set()
            for index, item in enumerate(names):
                key = ("calendar", "weekdays", index)
                day = _weekday(item)
                if day is None:
                    shown = _quote(item) if isinstance(item, str) else _describe(item)
                    self.error(key, f"unknown weekday {shown}: use {', '.join(_WEEKDAYS)}")
                elif day in weekdays:
                    self.error(key, f"{_WEEKDAYS[day]} is listed twice")
                weekdays.add(day if day is not None else -1)
            weekdays.discard(-1)
            if not names:
                table.problem("weekdays", "at least one working weekday is required")
        opens, closes = default.opens, default.closes
        hours = table.text("hours", required=False)
        if hours is not None:
            parsed = _parse_clock_range(hours)
            if parsed is None:
                table.problem("hours", f'{_quote(hours)} is not HH:MM-HH:MM, e.g. "09:00-18:00"')
            elif parsed[0] >= parsed[1]:
                table.problem(
                    "hours", f"{_quote(hours)}: working hours must open before they close"
                )
            else:
                opens, closes = parsed
        holidays: set[date] = set()
        for index, item in enumerate(table.array("holidays") or []):
            key = ("calendar", "holidays", index)
            holiday = _holiday(item)
            if holiday is None:
                self.error(key, f"expected a date YYYY-MM-DD, got {_describe(item)}")
            elif holiday in holidays:
                self.error(key, f"{holiday.isoformat()} is listed twice")
            else:
                holidays.add(holiday)
        table.finish()
        return CalendarSpec(
            weekdays=frozenset(weekdays), opens=opens, closes=closes, holidays=frozenset(holidays)
        )

    def quiet_hours(self, root: "_Table") -> tuple[tuple[time, time], ...]:
        table = root.table("quiet_hours", allowed=_QUIET_KEYS)
        if table is None:
            return DEFAULT_QUIET_WINDOWS
        items = table.array("windows")
        table.finish()
        if items is None:
            return DEFAULT_QUIET_WINDOWS
        windows: list[tuple[time, time]] = []
        for index, item in enumerate(items):
            key = ("quiet_hours", "windows", index)
            parsed = _parse_clock_range(item) if isinstance(item, str) else None
            if parsed is None:
                shown = _quote(item) if isinstance(item, str) else _describe(item)
                self.error(key, f'{shown} is not a window "HH:MM-HH:MM", e.g. "21:00-08:00"')
            elif parsed[0] == parsed[1]:
                self.error(key, f"{_quote(item)} starts and ends at the same time")
            else:
                windows.append(parsed)
        if windows and _covers_whole_day(windows):
            table.problem("windows", "quiet hours cover the whole day, so nothing could be sent")
        return tuple(windows)

    def standards(self, root: "_Table") -> Mapping[StandardName, StandardSpec]:
        table = root.table("standards", allowed=[s.value for s in StandardName])
        result = dict(DEFAULT_STANDARDS)
        if table is None:
            return MappingProxyType(result)
        for name in StandardName:
            limits = table.table(name.value, allowed=_LIMIT_KEYS)
            if limits is not None:
                override = self.limits(limits, on_site=name.is_repair)
                result[name] = result[name].merged(override)
        table.finish()
        return MappingProxyType(result)

    def limits(self, table: "_Table", on_site: bool) -> StandardSpec:
        claim = table.span("claim")
        reach = table.span("on_site")
        if reach is not None and not on_site:
            table.problem("on_site", "on_site applies to repairs only")
        resolve = table.span("resolve")
        table.finish()
        return StandardSpec(claim=claim, on_site=reach, resolve=resolve)

    def clock(self, root: "_Table") -> ClockSpec:
        table = root.table("clock", allowed=(*_CLOCK_SPANS, "digest_at"))
        default = ClockSpec()
        if table is None:
            return default
        spans: dict[str, Span] = {}
        for name in _CLOCK_SPANS:
            span = table.span(name, elapsed=True)
            if span is not None:
                spans[name] = span
        digest_at = default.digest_at
        value = table.get("digest_at")
        if isinstance(value, time):
            digest_at = value.replace(second=0, microsecond=0)
        elif isinstance(value, str):
            parsed = _parse_clock(value)
            if parsed is None:
                table.problem("digest_at", f"{_quote(value)} is not a time of day HH:MM")
            else:
                digest_at = parsed
        elif value is not _MISSING:
            table.problem("digest_at", f'expected a time of day "HH:MM", got {_describe(value)}')
        table.finish()
        return ClockSpec(
            resolved_reminder=spans.get("resolved_reminder", default.resolved_reminder),
            auto_close=spans.get("auto_close", default.auto_close),
            poll_reminder=spans.get("poll_reminder", default.poll_reminder),
            poll_expiry=spans.get("poll_expiry", default.poll_expiry),
            callback_due=spans.get("callback_due", default.callback_due),
            tick=spans.get("tick", default.tick),
            digest_at=digest_at,
        )

    # -- [[buildings]], [[departments]], [[categories]], [[staff]]

    def buildings(self, root: "_Table") -> list[BuildingSpec]:
        result: list[BuildingSpec] = []
        codes: dict[object, Key] = {}
        for table in self.entries(root, "buildings", _BUILDING_KEYS):
            code = table.text(
                "code",
                pattern=_BUILDING_CODE,
                hint="letters, digits, '-' and '_'",
                max_length=_MAX_BUILDING_CODE,
            )
            if code is not None:
                self.unique(codes, code, (*table.key, "code"), "building code")
            name = table.text("name")
            flats = self.flats(table, code or "?")
            table.finish()
            result.append(BuildingSpec(code=code or "", name=name or "", flats=flats))
        self.require_some(root, "buildings")
        return result

    def flats(self, table: "_Table", building: str) -> tuple[str, ...]:
        items = table.array("flats", required=True)
        if items is None:
            return ()
        flats: dict[str, None] = {}
        for index, item in enumerate(items):
            key = (*table.key, "flats", index)
            labels = self.flat_labels(key, item)
            repeated = [label for label in labels if label in flats]
            flats.update(dict.fromkeys(labels))
            if repeated:
                shown = ", ".join(_quote(label) for label in repeated[:5])
                more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
                plural = "flats" if len(repeated) > 1 else "flat"
                self.error(key, f"duplicate {plural} {shown}{more} in building {_quote(building)}")
        if not items:
            table.problem("flats", "at least one flat is required")
        return tuple(flats)

    def flat_labels(self, key: Key, item: object) -> list[str]:
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            self.error(key, f'expected a flat label or a range "a-b", got {_describe(item)}')
            return []
        text = item.strip()
        match = _FLAT_RANGE.fullmatch(text)
        if match is None:
            if not text:
                self.error(key, "a flat label must not be empty")
                return []
            if len(text) > _MAX_FLAT:
                self.error(key, f"flat label {_quote(text)} is longer than {_MAX_FLAT} characters")
                return []
            return [text]
        first, last = match.group(1), match.group(2)
        low, high = int(first), int(last)
        if low > high:
            self.error(key, f"range {_quote(text)} runs backwards")
            return []
        if high - low + 1 > _MAX_FLATS_PER_RANGE:
            self.error(key, f"range {_quote(text)} has more than {_MAX_FLATS_PER_RANGE} flats")
            return []
        width = len(first) if first.startswith("0") else 0
        return [str(n).zfill(width) for n in range(low, high + 1)]

    def departments(self, root: "_Table") -> list[DepartmentSpec]:
        result: list[DepartmentSpec] = []
        codes: dict[object, Key] = {}
        for table in self.entries(root, "departments", _DEPARTMENT_KEYS):
            code = table.text("code", pattern=_CODE, hint="lowercase letters, digits and '_'")
            if code is not None:
                self.unique(codes, code, (*table.key, "code"), "department code")
            name = table.text("name")
            chat_id = table.integer("chat_id", required=False, check=_chat_id)
            thread_id = table.integer("thread_id", required=False, check=_positive)
            if thread_id is not None and not table.present("chat_id"):
                table.problem("thread_id", "a forum topic needs the chat_id of its group")
            table.finish()
            result.append(
                DepartmentSpec(
                    code=code or "", name=name or "", chat_id=chat_id, thread_id=thread_id
                )
            )
        self.require_some(root, "departments")
        return result

    def categories(self, root: "_Table", departments: list[str]) -> list[CategorySpec]:
        result: list[CategorySpec] = []
        codes: dict[object, Key] = {}
        for table in self.entries(root, "categories", _CATEGORY_KEYS):
            category = self.category(table, departments, codes)
            if category is not None:
                result.append(category)
        self.require_some(root, "categories")
        return result

    def require_some(self, root: "_Table", name: str) -> None:
        if not root.present(name) or root.get(name) == []:
            root.problem(name, f"at least one [[{name}]] entry is required")

    def issues_under(self, key: Key) -> bool:
        prefix = render_key(key)
        return any(i.key == prefix or i.key.startswith(prefix + "[") for i in self.issues)

    def category(
        self, table: "_Table", departments: list[str], codes: dict[object, Key]
    ) -> CategorySpec | None:
        code = table.text("code", pattern=_CODE, hint="lowercase letters, digits and '_'")
        if code is not None:
            self.unique(codes, code, (*table.key, "code"), "category code")
        name = table.text("name")
        names: dict[str, str] = {}
        labels = table.table("names", allowed=LANGUAGES)
        if labels is not None:
            for language in LANGUAGES:
                label = labels.text(language, required=False)
                if label is not None:
                    names[language] = label
            labels.finish()
        kind = table.choice("kind", TicketKind)
        department = table.text("department")
        if department is not None and department not in departments:
            self.unknown((*table.key, "department"), department, "department", departments)
        emergency = table.boolean("emergency")
        explicit_priority = table.choice("priority", Priority, required=False)
        priority = explicit_priority or (Priority.EMERGENCY if emergency else Priority.NORMAL)
        hazard = table.choice("hazard", Hazard, required=False)
        simple = table.boolean("simple")
        repair = kind is TicketKind.REPAIR
        if kind is not None and not repair:
            for flag, is_set in (("emergency", emergency), ("simple", simple)):
                if is_set:
                    table.problem(flag, f"only repair categories can be {flag}, not {kind.value}")
            if explicit_priority is Priority.EMERGENCY:
                table.problem(
                    "priority", f"only repair categories have priority emergency, not {kind.value}"
                )
        if emergency and explicit_priority is Priority.NORMAL:
            table.problem("priority", 'an emergency category has priority "emergency"')
        if emergency and hazard is None and not table.present("hazard"):
            table.problem("hazard", f"an emergency category needs a hazard: {', '.join(Hazard)}")
        if simple and priority is Priority.EMERGENCY:
            table.problem("simple", "an emergency category cannot also be simple")
        override = None
        standard = table.table("standard", allowed=_LIMIT_KEYS)
        if standard is not None:
            override = self.limits(standard, on_site=kind is None or repair)
            if override == StandardSpec():
                override = None
        table.finish()
        if code is None or kind is None or department is None:
            return None
        return CategorySpec(
            code=code,
            name=name or "",
            kind=kind,
            department=department,
            priority=priority,
            emergency=emergency,
            hazard=hazard,
            simple=simple,
            names=MappingProxyType(names),
            standard=override,
        )

    def staff(self, root: "_Table", departments: list[str]) -> list[StaffSpec]:
        result: list[StaffSpec] = []
        ids: dict[object, Key] = {}
        for table in self.entries(root, "staff", _STAFF_KEYS):
            telegram_id = table.integer("telegram_id", check=_positive)
            if telegram_id is not None:
                self.unique(ids, telegram_id, (*table.key, "telegram_id"), "telegram_id")
            name = table.text("name")
            role = table.choice("role", Role)
            codes: list[str] = []
            for index, item in enumerate(table.array("departments") or []):
                key = (*table.key, "departments", index)
                if not isinstance(item, str):
                    self.error(key, f"expected a department code, got {_describe(item)}")
                elif item not in departments:
                    self.unknown(key, item, "department", departments)
                elif item in codes:
                    self.error(key, f"department {_quote(item)} is listed twice")
                else:
                    codes.append(item)
            if (
                role is not None
                and not role.manages
                and not codes
                and not self.issues_under((*table.key, "departments"))
            ):
                table.problem("departments", f"a {role.value} needs at least one department")
            language = table.language("language", required=False)
            table.finish()
            if telegram_id is not None and role is not None:
                result.append(
                    StaffSpec(
                        telegram_id=telegram_id,
                        name=name or "",
                        role=role,
                        departments=tuple(codes),
                        language=language,
                    )
                )
        return result

    # -- residents: [[residents]] and residents_csv

    def residents(self, root: "_Table", buildings: list[BuildingSpec]) -> list[ResidentSpec]:
        flats = {b.code: frozenset(b.flats) for b in buildings if b.code}
        phones: dict[str, _Origin] = {}  # phone digits -> where first seen
        result: list[ResidentSpec] = []
        for table in self.entries(root, "residents", _RESIDENT_KEYS):
            fields: dict[str, str] = {}
            for name in _RESIDENT_KEYS:
                value = table.get(name)
                if isinstance(value, int) and not isinstance(value, bool) and name == "flat":
                    value = str(value)
                if value is _MISSING:
                    table.problem(name, "required key is missing")
                elif not isinstance(value, str):
                    table.problem(name, f"expected a string, got {_describe(value)}")
                else:
                    fields[name] = value
            table.finish()

            def report(column: str, message: str, table: _Table = table) -> None:
                table.problem(column, message)

            line = self.lines.line_of(table.key)
            label = render_key(table.key)
            origin = _Origin(self.source, self.where(table.key), f"{label} ({self.source}:{line})")
            resident = self.resident(fields, flats, phones, origin, report)
            if resident is not None:
                result.append(resident)
        csv_name = root.text("residents_csv", required=False)
        if csv_name is not None:
            result.extend(self.residents_csv(csv_name, flats, phones))
        return result

    def resident(
        self,
        fields: Mapping[str, str],
        flats: Mapping[str, frozenset[str]],
        phones: dict[str, _Origin],
        origin: _Origin,
        report: Callable[[str, str], None],
    ) -> ResidentSpec | None:
        ok = len(fields) == len(_RESIDENT_KEYS)
        values = {name: value.strip() for name, value in fields.items()}
        for name in ("name", "building", "flat"):
            if name in values and not values[name]:
                report(name, "must not be empty")
                ok = False
        phone = None
        if "phone" in values:
            phone = normalise_phone(values["phone"])
            if phone is None:
                report(
                    "phone",
                    f"{_quote(values['phone'])} is not a phone number: digits with an optional "
                    "leading '+', spaces, dashes and parentheses (at least 6 digits)",
                )
                ok = False
            else:
                first = phones.setdefault(phone.lstrip("+"), origin)
                if first is not origin:
                    seen = first.near if first.path == origin.path else first.far
                    report("phone", f"duplicate phone {phone} (first used at {seen})")
                    ok = False
        building, flat = values.get("building"), values.get("flat")
        if building:
            if building not in flats:
                report(
                    "building", f"unknown building {_quote(building)} {_known('buildings', flats)}"
                )
                ok = False
            elif flat and flat not in flats[building]:
                report("flat", f"no flat {_quote(flat)} in building {_quote(building)}")
                ok = False
        if not ok or phone is None or building is None or flat is None:
            return None
        return ResidentSpec(name=values["name"], phone=phone, building=building, flat=flat)

    def residents_csv(
        self, name: str, flats: Mapping[str, frozenset[str]], phones: dict[str, _Origin]
    ) -> list[ResidentSpec]:
        path = self.base_dir / name
        shown = str(path)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except OSError as error:
            self.error(("residents_csv",), f"cannot read {shown}: {error.strerror or error}")
            return []
        except UnicodeDecodeError as error:
            self.error(("residents_csv",), f"{shown} is not UTF-8 text ({error.reason})")
            return []

        def issue(line: int, column: str, message: str) -> None:
            self.issues.append(EstateIssue(shown, line, column, message))

        reader = csv.reader(io.StringIO(text, newline=""))
        result: list[ResidentSpec] = []
        header: list[str] | None = None
        consumed = 0
        try:
            for row in reader:
                start, consumed = consumed + 1, reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in row]
                    missing = [c for c in _RESIDENT_KEYS if c not in header]
                    extra = [c for c in header if c not in _RESIDENT_KEYS]
                    doubled = sorted({c for c in header if header.count(c) > 1})
                    problems = [
                        *(f"missing column {_quote(c)}" for c in missing),
                        *(f"unknown column {_quote(c)}" for c in extra),
                        *(f"column {_quote(c)} appears twice" for c in doubled),
                    ]
                    if problems:
                        issue(
                            start,
                            "",
                            f"{'; '.join(problems)} (expected: {','.join(_RESIDENT_KEYS)})",
                        )
                        return result
                    continue
                if len(row) != len(header):
                    issue(start, "", f"expected {len(header)} fields, found {len(row)}")
                    continue

                def report(column: str, message: str, start: int = start) -> None:
                    issue(start, column, message)

                fields = dict(zip(header, row, strict=True))
                origin = _Origin(shown, f"line {start}", f"{shown}:{start}")
                resident = self.resident(fields, flats, phones, origin, report)
                if resident is not None:
                    result.append(resident)
        except csv.Error as error:
            issue(reader.line_num, "", f"CSV error: {error}")
        if header is None:
            issue(1, "", f"empty file: expected a header {','.join(_RESIDENT_KEYS)}")
        return result


# --------------------------------------------------------------------------------------------
# Reading one table


def _positive(value: int) -> str | None:
    return None if value > 0 else "must be a positive integer"


def _chat_id(value: int) -> str | None:
    return None if value < 0 else "a group chat id is negative, e.g. -1001234567890"


def _weekday(item: object) -> int | None:
    if not isinstance(item, str):
        return None
    name = item.strip().lower()
    if name in _WEEKDAYS:
        return _WEEKDAYS.index(name)
    if name in _FULL_WEEKDAYS:
        return _FULL_WEEKDAYS.index(name)
    return None


def _holiday(item: object) -> date | None:
    if isinstance(item, datetime):
        return None
    if isinstance(item, date):
        return item
    if isinstance(item, str):
        try:
            return date.fromisoformat(item.strip())
        except ValueError:
            return None
    return None


class _Table:
    """One TOML table being validated: typed getters that report problems at the right key,
    and ``finish()`` to report keys that are not part of the schema."""

    def __init__(
        self, validator: _Validator, key: Key, data: Mapping[str, object], allowed: Sequence[str]
    ) -> None:
        self.validator = validator
        self.key = key
        self.data = data
        self.allowed = tuple(allowed)

    def problem(self, name: str, message: str) -> None:
        self.validator.error((*self.key, name), message)

    def present(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str) -> object:
        assert name in self.allowed, f"{name} is not declared for {render_key(self.key)}"
        return self.data.get(name, _MISSING)

    def finish(self) -> None:
        for name in self.data:
            if name in self.allowed:
                continue
            message = f"unknown key {_quote(name)}"
            close = difflib.get_close_matches(name, self.allowed, n=1, cutoff=0.6)
            if close:
                message += f" (did you mean {_quote(close[0])}?)"
            elif self.key and name in _ROOT_KEYS:
                message += " (top-level keys must come before the first [table] header)"
            elif len(self.allowed) <= 10:
                message += f" (expected: {', '.join(self.allowed)})"
            self.problem(name, message)

    def required(self, name: str, required: bool) -> object:
        value = self.get(name)
        if value is _MISSING and required:
            self.problem(name, "required key is missing")
        return value

    def text(
        self,
        name: str,
        *,
        required: bool = True,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
        max_length: int = _MAX_CODE,
    ) -> str | None:
        value = self.required(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.problem(name, f"expected a string, got {_describe(value)}")
            return None
        text = value.strip()
        if not text:
            self.problem(name, "must not be empty")
            return None
        if pattern is not None:
            if not pattern.fullmatch(text):
                self.problem(name, f"{_quote(text)} is not valid: use {hint}")
                return None
            if len(text) > max_length:
                self.problem(name, f"{_quote(text)} is longer than {max_length} characters")
                return None
        return text

    def integer(
        self, name: str, *, required: bool = True, check: Callable[[int], str | None] | None = None
    ) -> int | None:
        value = self.required(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            self.problem(name, f"expected an integer, got {_describe(value)}")
            return None
        failure = check(value) if check is not None else None
        if failure is not None:
            self.problem(name, f"{value}: {failure}")
            return None
        return value

    def boolean(self, name: str) -> bool:
        value = self.get(name)
        if value is _MISSING:
            return False
        if not isinstance(value, bool):
            self.problem(name, f"expected true or false, got {_describe(value)}")
            return False
        return value

    def choice(self, name: str, enum: type[_E], *, required: bool = True) -> _E | None:
        value = self.required(name, required)
        if value is _MISSING:
            return None
        options = ", ".join(member.value for member in enum)
        if not isinstance(value, str):
            self.problem(name, f"expected one of {options}, got {_describe(value)}")
            return None
        try:
            return enum(value.strip())
        except ValueError:
            self.problem(name, f"unknown {name} {_quote(value)} (use: {options})")
            return None

    def language(self, name: str, *, required: bool) -> str | None:
        value = self.text(name, required=required)
        if value is not None and value not in LANGUAGES:
            self.problem(name, f"unknown language {_quote(value)} (use: {', '.join(LANGUAGES)})")
            return None
        return value

    def span(self, name: str, *, elapsed: bool = False) -> Span | None:
        value = self.get(name)
        if value is _MISSING:
            return None
        try:
            span = parse_span(value)
        except ValueError as error:
            self.problem(name, str(error))
            return None
        if elapsed and span.is_working:
            self.problem(name, f"{_quote(value)}: working days are not allowed here, use s/m/h/d/w")
            return None
        return span

    def array(self, name: str, *, required: bool = False) -> list[object] | None:
        value = self.required(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, list):
            self.problem(name, f"expected an array, got {_describe(value)}")
            return None
        return value

    def table(
        self, name: str, *, allowed: Sequence[str], required: bool = False
    ) -> "_Table | None":
        value = self.required(name, required)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.problem(name, f"expected a table, got {_describe(value)}")
            return None
        return _Table(self.validator, (*self.key, name), value, allowed)
