"""An estate's rules, read from its row: time zone, calendar, quiet hours, standards."""

from dataclasses import dataclass, field
from typing import Any

from bot.domain.calendar import WorkCalendar
from bot.domain.deadlines import DEFAULT_STANDARDS, Standard, standard_key
from bot.domain.kinds import TicketKind
from bot.domain.quiet_hours import QuietHours
from bot.domain.spans import Span, parse_span
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
        settings = estate.settings or {}
        calendar = settings.get("calendar", {})
        standards = {
            key: _standard(settings.get("standards", {}).get(key, {}), base)
            for key, base in DEFAULT_STANDARDS.items()
        }
        clock = {**DEFAULT_CLOCK, **settings.get("clock", {})}
        return cls(
            id=estate.id,
            name=estate.name,
            tz=estate.timezone,
            language=estate.language,
            managers_chat_id=estate.managers_chat_id,
            customer_service_id=estate.customer_service_id,
            calendar=WorkCalendar.from_config(
                estate.timezone,
                calendar.get("weekdays", ["mon", "tue", "wed", "thu", "fri"]),
                calendar.get("hours", "09:00-18:00"),
                calendar.get("holidays", []),
            ),
            quiet=QuietHours.parse(
                estate.timezone, settings.get("quiet_hours", ["21:00-08:00", "12:00-13:30"])
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
