"""What a resident can file, and how urgent it is."""

from enum import StrEnum


class TicketKind(StrEnum):
    REPAIR = "repair"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    QUESTION = "question"
    PRAISE = "praise"

    @property
    def prefix(self) -> str:
        return _PREFIXES[self]

    @property
    def is_repair(self) -> bool:
        return self is TicketKind.REPAIR


_PREFIXES = {
    TicketKind.REPAIR: "R",
    TicketKind.COMPLAINT: "C",
    TicketKind.SUGGESTION: "S",
    TicketKind.QUESTION: "Q",
    TicketKind.PRAISE: "P",
}


class Priority(StrEnum):
    NORMAL = "normal"
    EMERGENCY = "emergency"


class Hazard(StrEnum):
    """Emergency categories carry one of these; each has safety advice in the catalogs."""

    WATER = "water"
    POWER = "power"
    GAS = "gas"
    LIFT = "lift"
    FIRE = "fire"


class Place(StrEnum):
    FLAT = "flat"
    COMMON = "common"


def format_number(kind: TicketKind, seq: int) -> str:
    """The human-readable request number, e.g. ``R-000123``."""
    return f"{kind.prefix}-{seq:06d}"


def parse_number(text: str) -> tuple[TicketKind, int] | None:
    text = text.strip().upper()
    if len(text) < 3 or text[1] != "-" or not text[2:].isdigit():
        return None
    for kind, prefix in _PREFIXES.items():
        if text[0] == prefix:
            return kind, int(text[2:])
    return None
