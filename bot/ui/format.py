"""Small formatting helpers shared by every text builder and by the sender."""

import html
from datetime import datetime
from html.parser import HTMLParser
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
    """Shorten plain text (before escaping) to ``limit`` UTF-16 units, as Telegram counts."""
    return clip_units(text, limit)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def clip_units(text: str, limit: int) -> str:
    """Shorten plain text to at most ``limit`` UTF-16 units, with an ellipsis when cut."""
    if utf16_len(text) <= limit:
        return text
    return _head(text, limit - 1) + "…"


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_plain(text: str) -> str:
    """What a reader sees of our HTML, without tags and with entities decoded: the text we
    send when Telegram refuses the HTML. Anything that is not a well-formed tag stays as is."""
    reader = _Reader()
    reader.feed(text)
    reader.close()
    return "".join(reader.parts)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split plain text into parts of at most ``limit`` UTF-16 units, on line breaks where
    possible, else on spaces, else anywhere (never inside a surrogate pair). Meant for plain
    text: a cut could fall inside an HTML tag or entity."""
    parts: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        head = _head(rest, limit)
        cut = head.rfind("\n")
        if cut <= 0:
            cut = head.rfind(" ")
        if cut <= 0:
            cut = len(head)
        parts.append(rest[:cut])
        rest = rest[cut:].lstrip("\n ")
    if rest or not parts:
        parts.append(rest)
    return parts


def _head(text: str, units: int) -> str:
    """The longest prefix of ``text`` of at most ``units`` UTF-16 units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > units:
            return text[:index]
    return text
