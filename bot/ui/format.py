"""Small formatting helpers shared by every text builder."""

import html
from datetime import datetime
from zoneinfo import ZoneInfo

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


def h(value: object) -> str:
    """Escape anything a user typed before it goes into an HTML message."""
    return html.escape(str(value), quote=False)


def local_time(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def clip(text: str, limit: int) -> str:
    """Shorten plain text (before escaping) to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a message on line breaks so each part fits Telegram's limit (HTML stays balanced
    as long as no tag spans a line, which all our builders respect)."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
