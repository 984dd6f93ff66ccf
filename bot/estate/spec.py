"""The validated, immutable form of an estate file.

Everything here is plain data: the loader (``bot.estate.loader``) builds it from TOML and
reports every problem it finds; the code that applies an estate to the database reads it.
Mappings are read-only (``MappingProxyType``) and sequences are tuples.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from types import MappingProxyType
from zoneinfo import ZoneInfo

from bot.domain.kinds import Hazard, Priority, TicketKind
from bot.domain.permissions import Role
from bot.domain.spans import Span, parse_span

#: Languages of the user interface (staff-group cards, per-locale labels, staff preferences).
LANGUAGES: tuple[str, ...] = ("en", "zh_Hans", "zh_Hant", "ru")

_PHONE_SEPARATORS = re.compile(r"[\s\-()]")
_MIN_PHONE_DIGITS = 6
_MAX_PHONE_DIGITS = 15  # E.164


def normalise_phone(text: str) -> str | None:
    """The stored form of a phone number, or ``None`` if ``text`` is not one.

    Spaces, dashes and parentheses are dropped and a single leading ``+`` is kept; anything
    else must be digits, 6 to 15 of them. ``"+44 (7700) 900-001"`` becomes ``"+447700900001"``.

    Two numbers are the same phone when their *digits* are equal (see :func:`phone_digits`):
    Telegram shares a contact's number with or without the ``+``, so ``"+44 7700 900001"`` and
    ``"447700900001"`` must match. Registry numbers should therefore be written in full
    international form; a local form such as ``"07700 900001"`` will not match.
    """
    compact = _PHONE_SEPARATORS.sub("", text)
    plus = compact.startswith("+")
    digits = compact[1:] if plus else compact
    if not digits.isascii() or not digits.isdigit():
        return None
    if not _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS:
        return None
    return f"+{digits}" if plus else digits


def phone_digits(text: str) -> str | None:
    """The digits of a phone number (no ``+``): the key on which phones are compared."""
    normal = normalise_phone(text)
    return None if normal is None else normal.lstrip("+")


def phones_match(a: str, b: str) -> bool:
    """Whether two phone numbers (in any accepted spelling) are the same number."""
    key = phone_digits(a)
    return key is not None and key == phone_digits(b)


class StandardName(StrEnum):
    """The service standards an estate defines; every category maps to exactly one."""

    REPAIR_EMERGENCY = "repair_emergency"
    REPAIR_NORMAL = "repair_normal"
    REPAIR_SIMPLE = "repair_simple"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    QUESTION = "question"
    PRAISE = "praise"

    @property
    def is_repair(self) -> bool:
        return self.value.startswith("repair_")


@dataclass(frozen=True, slots=True)
class StandardSpec:
    """How long staff have to claim, reach the site and resolve a request (``None``: no limit)."""

    claim: Span | None = None
    on_site: Span | None = None
    resolve: Span | None = None

    def merged(self, override: "StandardSpec | None") -> "StandardSpec":
        """This standard with the limits that ``override`` sets replacing ours."""
        if override is None:
            return self
        return StandardSpec(
            claim=override.claim if override.claim is not None else self.claim,
            on_site=override.on_site if override.on_site is not None else self.on_site,
            resolve=override.resolve if override.resolve is not None else self.resolve,
        )


#: The regulation defaults; ``[standards]`` in an estate file overrides them limit by limit.
DEFAULT_STANDARDS: Mapping[StandardName, StandardSpec] = MappingProxyType(
    {
        StandardName.REPAIR_EMERGENCY: StandardSpec(
            claim=parse_span("5m"), on_site=parse_span("15m"), resolve=parse_span("4h")
        ),
        StandardName.REPAIR_NORMAL: StandardSpec(
            claim=parse_span("30m"), resolve=parse_span("72h")
        ),
        StandardName.REPAIR_SIMPLE: StandardSpec(claim=parse_span("30m"), resolve=parse_span("2h")),
        StandardName.COMPLAINT: StandardSpec(claim=parse_span("4h"), resolve=parse_span("4wd")),
        StandardName.SUGGESTION: StandardSpec(claim=parse_span("1wd"), resolve=parse_span("5wd")),
        StandardName.QUESTION: StandardSpec(claim=parse_span("1wd"), resolve=parse_span("5wd")),
        StandardName.PRAISE: StandardSpec(claim=parse_span("1wd")),
    }
)

DEFAULT_QUIET_WINDOWS: tuple[tuple[time, time], ...] = (
    (time(21, 0), time(8, 0)),
    (time(12, 0), time(13, 30)),
)


_SECONDS_30 = parse_span("30s")
_HOURS_24 = parse_span("24h")
_HOURS_48 = parse_span("48h")
_HOURS_72 = parse_span("72h")
_DAYS_7 = parse_span("7d")


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """Working days and hours, for deadlines measured in working days.

    ``weekdays`` are ``date.weekday()`` numbers (0 = Monday … 6 = Sunday); working time on a
    working day is ``[opens, closes)`` in the estate's zone, and ``opens < closes``.
    """

    weekdays: frozenset[int] = frozenset(range(5))
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class ClockSpec:
    """Timers of the scheduler; all elapsed spans (never working days)."""

    resolved_reminder: Span = _HOURS_24
    auto_close: Span = _HOURS_72
    poll_reminder: Span = _HOURS_24
    poll_expiry: Span = _DAYS_7
    callback_due: Span = _HOURS_48
    tick: Span = _SECONDS_30
    digest_at: time = time(9, 0)  # local wall-clock time of the daily digest


@dataclass(frozen=True, slots=True)
class BuildingSpec:
    code: str
    name: str
    flats: tuple[str, ...]  # expanded labels, in the order declared, no duplicates

    def has_flat(self, flat: str) -> bool:
        return flat in self.flats


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    code: str
    name: str
    chat_id: int | None = None  # the staff group (negative); None until bound with /bind
    thread_id: int | None = None  # forum topic in that group


@dataclass(frozen=True, slots=True)
class CategorySpec:
    code: str
    name: str  # default label
    kind: TicketKind
    department: str  # a DepartmentSpec.code
    priority: Priority = Priority.NORMAL
    emergency: bool = False  # safety advice shown, registers at once; implies priority emergency
    hazard: Hazard | None = None  # always set when emergency
    simple: bool = False  # repair_simple standard applies (never together with emergency)
    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    standard: StandardSpec | None = None  # per-category override, limit by limit

    @property
    def standard_name(self) -> StandardName:
        """The estate-wide standard this category starts from."""
        if self.kind is not TicketKind.REPAIR:
            return StandardName(self.kind.value)
        if self.priority is Priority.EMERGENCY or self.emergency:
            return StandardName.REPAIR_EMERGENCY
        if self.simple:
            return StandardName.REPAIR_SIMPLE
        return StandardName.REPAIR_NORMAL

    def label(self, language: str | None = None) -> str:
        """The label in ``language`` if one is given for it, else the default name."""
        if language is not None and language in self.names:
            return self.names[language]
        return self.name


@dataclass(frozen=True, slots=True)
class StaffSpec:
    telegram_id: int
    name: str  # display name shown to residents
    role: Role
    departments: tuple[str, ...] = ()  # DepartmentSpec.codes; non-empty unless manager/admin
    language: str | None = None  # one of LANGUAGES, or None for the estate's language


@dataclass(frozen=True, slots=True)
class ResidentSpec:
    name: str
    phone: str  # normalise_phone() form; unique across the registry by phone_digits()
    building: str  # a BuildingSpec.code
    flat: str  # one of that building's flats

    @property
    def phone_digits(self) -> str:
        return self.phone.lstrip("+")


@dataclass(frozen=True, slots=True)
class EstateSpec:
    slug: str
    name: str
    timezone: str  # IANA name, known to zoneinfo
    customer_service: str  # a DepartmentSpec.code
    buildings: tuple[BuildingSpec, ...]
    departments: tuple[DepartmentSpec, ...]
    categories: tuple[CategorySpec, ...]
    language: str = "en"  # language of staff-group cards
    managers_chat_id: int | None = None
    max_open_requests: int = 10
    invite_ttl: Span = _DAYS_7
    emergency_numbers: Mapping[Hazard, str] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    calendar: CalendarSpec = CalendarSpec()
    quiet_hours: tuple[tuple[time, time], ...] = DEFAULT_QUIET_WINDOWS  # (start, end); may wrap
    standards: Mapping[StandardName, StandardSpec] = field(
        default_factory=lambda: DEFAULT_STANDARDS, hash=False
    )  # always all seven
    clock: ClockSpec = ClockSpec()
    staff: tuple[StaffSpec, ...] = ()
    residents: tuple[ResidentSpec, ...] = ()  # inline [[residents]] first, then residents_csv

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def building(self, code: str) -> BuildingSpec | None:
        return next((b for b in self.buildings if b.code == code), None)

    def department(self, code: str) -> DepartmentSpec | None:
        return next((d for d in self.departments if d.code == code), None)

    def category(self, code: str) -> CategorySpec | None:
        return next((c for c in self.categories if c.code == code), None)

    def resident_by_phone(self, phone: str) -> ResidentSpec | None:
        """The registry entry whose phone matches ``phone`` (compared on digits)."""
        key = phone_digits(phone)
        if key is None:
            return None
        return next((r for r in self.residents if r.phone_digits == key), None)

    def standard_for(self, category: CategorySpec) -> StandardSpec:
        """The effective standard of a category: the estate's, with the category's override."""
        return self.standards[category.standard_name].merged(category.standard)
