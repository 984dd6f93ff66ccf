"""An estate's rules, read from its row: time zone, calendar, quiet hours, standards."""

import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Text, bindparam, cast, select

from bot.domain.calendar import WorkCalendar
from bot.domain.deadlines import DEFAULT_STANDARDS, Standard, standard_key
from bot.domain.kinds import TicketKind
from bot.domain.quiet_hours import QuietHours
from bot.domain.spans import Span, parse_span
from storage.dialects import Executor
from storage.models import Category, Estate

DEFAULT_CLOCK = {
    "resolved_reminder": "24h",
    "auto_close": "72h",
    "poll_reminder": "24h",
    "poll_expiry": "7d",
    "callback_due": "48h",
    "tick": "30s",
}


def _standard(raw: dict[str, Any], base: Standard) -> Standard:
    def pick(name: str, current: Span | None) -> Span | None:
        if name not in raw:
            return current
        value = raw[name]
        return None if value in (None, "", 0) else parse_span(value)

    return Standard(
        claim=pick("claim", base.claim),
        on_site=pick("on_site", base.on_site),
        resolve=pick("resolve", base.resolve),
    )


@dataclass(frozen=True)
class EstateRow:
    """An estate's row, its settings parsed."""

    id: int
    name: str
    timezone: str
    language: str
    managers_chat_id: int | None
    customer_service_id: int | None
    settings: dict[str, Any]


@dataclass(frozen=True)
class EstateContext:
    id: int
    name: str
    tz: str
    language: str
    managers_chat_id: int | None
    customer_service_id: int | None
    calendar: WorkCalendar
    quiet: QuietHours
    standards: dict[str, Standard]
    clock: dict[str, Span]
    emergency_numbers: dict[str, str] = field(default_factory=dict)
    max_open_requests: int = 10

    @classmethod
    def of(cls, estate: Estate) -> "EstateContext":
        return cls.parse(
            EstateRow(
                estate.id,
                estate.name,
                estate.timezone,
                estate.language,
                estate.managers_chat_id,
                estate.customer_service_id,
                estate.settings or {},
            )
        )

    @classmethod
    def parse(cls, row: "EstateRow") -> "EstateContext":
        settings = row.settings
        calendar = settings.get("calendar", {})
        standards = {
            key: _standard(settings.get("standards", {}).get(key, {}), base)
            for key, base in DEFAULT_STANDARDS.items()
        }
        clock = {**DEFAULT_CLOCK, **settings.get("clock", {})}
        return cls(
            id=row.id,
            name=row.name,
            tz=row.timezone,
            language=row.language,
            managers_chat_id=row.managers_chat_id,
            customer_service_id=row.customer_service_id,
            calendar=WorkCalendar.from_config(
                row.timezone,
                calendar.get("weekdays", ["mon", "tue", "wed", "thu", "fri"]),
                calendar.get("hours", "09:00-18:00"),
                calendar.get("holidays", []),
            ),
            quiet=QuietHours.parse(
                row.timezone, settings.get("quiet_hours", ["21:00-08:00", "12:00-13:30"])
            ),
            standards=standards,
            clock={k: parse_span(v) for k, v in clock.items() if k != "digest_at"},
            emergency_numbers=dict(settings.get("emergency_numbers", {})),
            max_open_requests=int(settings.get("max_open_requests", 10)),
        )

    def standard_for(
        self, kind: TicketKind, emergency: bool, category: Category | None
    ) -> Standard:
        simple = bool(category is not None and category.simple)
        base = self.standards[standard_key(kind, emergency, simple)]
        if category is not None and category.standard:
            return _standard(category.standard, base)
        return base


# An estate's row with its settings as text (not parsed): most updates need the
# estate's rules, and loading the entity and parsing its rules each time cost a millisecond.
ESTATE_ROW = select(
    Estate.id,
    Estate.name,
    Estate.timezone,
    Estate.language,
    Estate.managers_chat_id,
    Estate.customer_service_id,
    cast(Estate.settings, Text),
).where(Estate.id == bindparam("estate_id"))
_PARSED: OrderedDict[tuple[Any, ...], EstateContext] = OrderedDict()
_PARSED_SIZE = 64


async def estate_context(executor: Executor, estate_id: int) -> EstateContext | None:
    """The estate's rules as its row holds them now. Every call reads the row (another process,
    ``frontdoor estate apply``, may have changed it); the rules are parsed again only when the
    row differs from one parsed before."""
    row = (await executor.execute(ESTATE_ROW, {"estate_id": estate_id})).first()
    if row is None:
        return None
    key = tuple(row)
    found = _PARSED.get(key)
    if found is None:
        id_, name, timezone, language, managers_chat_id, customer_service_id, settings = row
        settings_dict = json.loads(settings) if settings else {}
        found = EstateContext.parse(
            EstateRow(
                id_, name, timezone, language, managers_chat_id, customer_service_id, settings_dict
            )
        )
        _PARSED[key] = found
        while len(_PARSED) > _PARSED_SIZE:
            _PARSED.popitem(last=False)
    return found
