"""Text formatting for the fake Bot API: parse_mode parsers and entity helpers.

Everything here works the way Telegram documents its formatting options
(https://core.telegram.org/bots/api#formatting-options):

* ``parse_html`` follows Telegram's HTML grammar: only the documented tags are accepted,
  anything else (including a bare ``<``) is an error whose wording mirrors Telegram's
  ("Unsupported start tag "script" at byte offset 12", ...).  Like Telegram, an ``&`` that
  does not start one of ``&lt; &gt; &amp; &quot; &#NN; &#xHH;`` is kept literally; pass
  ``strict_entities=True`` to turn such an ``&`` into a parse error instead.
* ``parse_markdown_v2`` implements the MarkdownV2 rules (reserved characters must be escaped).
* ``parse_markdown`` implements the legacy Markdown mode.

Offsets and lengths of entities are in UTF-16 code units, like Telegram's.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

Entity = dict[str, Any]


class EntityParseError(ValueError):
    """Raised for malformed formatted text; ``str(exc)`` is Telegram's reason text."""


# --------------------------------------------------------------------------- UTF-16 helpers


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (what Telegram counts)."""
    return len(text.encode("utf-16-le")) // 2


def _units(ch: str) -> int:
    return 2 if ord(ch) > 0xFFFF else 1


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` covered by an entity (UTF-16 offset/length)."""
    encoded = text.encode("utf-16-le")
    return encoded[offset * 2 : (offset + length) * 2].decode("utf-16-le", errors="replace")


def sort_entities(entities: list[Entity]) -> list[Entity]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], e["type"]))


# --------------------------------------------------------------------------- trimming


def strip_text(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Remove leading/trailing whitespace like Telegram does and clip the entities."""
    stripped_left = text.lstrip()
    lead = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    total = utf16_len(result)
    clipped: list[Entity] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end <= start:
            continue
        new = dict(entity)
        new["offset"] = start
        new["length"] = end - start
        clipped.append(new)
    return result, sort_entities(clipped)


# --------------------------------------------------------------------------- URL helpers

_URL_SCHEMES = {"http", "https", "tg", "ton", "tonsite", "mailto"}


def normalize_url(raw: str) -> str | None:
    """Normalize a link target the way Telegram echoes it back, or None if unusable."""
    url = raw.strip()
    if not url:
        return None
    if "://" not in url and not url.lower().startswith(("tg:", "mailto:")):
        url = "http://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _URL_SCHEMES:
        return None
    if scheme in {"http", "https"}:
        if not parts.netloc or " " in parts.netloc:
            return None
        if not parts.path:
            url = f"{scheme}://{parts.netloc}/"
            if parts.query:
                url += "?" + parts.query
            if parts.fragment:
                url += "#" + parts.fragment
    return url


# --------------------------------------------------------------------------- HTML

_HTML_TAGS = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
    "tg-time",
}

_SIMPLE_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}

_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_ENTITY_RE = re.compile(r"&(?:#(\d{1,8})|#[xX]([0-9a-fA-F]{1,7})|([a-zA-Z]{2,8}));")


def _decode_html_entity(text: str, index: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``text[index] == '&'`` -> (character, next index)."""
    match = _HTML_ENTITY_RE.match(text, index)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        char = _NAMED_HTML_ENTITIES.get(name)
        if char is None:
            return None
        return char, match.end()
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code <= 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    offset: int  # UTF-16 offset in the output
    byte_pos: int


@dataclass
class _Builder:
    """Accumulates output text and tracks the UTF-16 length."""

    parts: list[str] = field(default_factory=list)
    units: int = 0

    def add(self, chunk: str) -> None:
        self.parts.append(chunk)
        self.units += utf16_len(chunk)

    def text(self) -> str:
        return "".join(self.parts)


def parse_html(text: str, *, strict_entities: bool = False) -> tuple[str, list[Entity]]:
    """Parse Telegram-flavoured HTML into (plain text, entities)."""
    out = _Builder()
    stack: list[_OpenTag] = []
    entities: list[Entity] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded = _decode_html_entity(text, i)
            if decoded is not None:
                out.add(decoded[0])
                i = decoded[1]
                continue
            if strict_entities:
                raise EntityParseError(
                    f"Unsupported HTML entity at byte offset {_byte_offset(text, i)}"
                )
            out.add(ch)
            i += 1
            continue
        if ch != "<":
            out.add(ch)
            i += 1
            continue
        begin = i
        begin_byte = _byte_offset(text, begin)
        if i + 1 < n and text[i + 1] == "/":
            i = _close_html_tag(text, i, begin_byte, stack, entities, out)
        else:
            i = _open_html_tag(text, i, begin_byte, stack, out)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    return out.text(), _merge_pre_code(entities)


def _open_html_tag(text: str, i: int, begin_byte: int, stack: list[_OpenTag], out: _Builder) -> int:
    n = len(text)
    j = i + 1
    while j < n and not text[j].isspace() and text[j] != ">":
        j += 1
    if j >= n:
        raise EntityParseError(f"Unclosed start tag at byte offset {begin_byte}")
    tag = text[i + 1 : j].lower()
    if tag not in _HTML_TAGS:
        raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin_byte}')
    attributes: dict[str, str] = {}
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin_byte}')
        if text[j] == ">":
            j += 1
            break
        name_start = j
        while j < n and not text[j].isspace() and text[j] not in "=>":
            j += 1
        attr_name = text[name_start:j].lower()
        if not attr_name:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {begin_byte}'
            )
        while j < n and text[j].isspace():
            j += 1
        if j < n and text[j] != "=":
            # attribute without value (e.g. <blockquote expandable>)
            attributes[attr_name] = ""
            continue
        if j >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin_byte}')
        j += 1
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin_byte}')
        if text[j] in "'\"":
            quote = text[j]
            j += 1
            value_chars: list[str] = []
            while j < n and text[j] != quote:
                if text[j] == "&":
                    decoded = _decode_html_entity(text, j)
                    if decoded is not None:
                        value_chars.append(decoded[0])
                        j = decoded[1]
                        continue
                value_chars.append(text[j])
                j += 1
            if j >= n:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin_byte}")
            j += 1
            value = "".join(value_chars)
        else:
            token_start = j
            while j < n and (text[j].isalnum() or text[j] in ".-"):
                j += 1
            value = text[token_start:j].lower()
            if j >= n or (not text[j].isspace() and text[j] != ">"):
                raise EntityParseError(
                    f"Unexpected end of name token at byte offset {_byte_offset(text, token_start)}"
                )
        attributes[attr_name] = value
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {begin_byte}'
        )
    stack.append(_OpenTag(tag, attributes, out.units, begin_byte))
    return j


def _close_html_tag(
    text: str,
    i: int,
    begin_byte: int,
    stack: list[_OpenTag],
    entities: list[Entity],
    out: _Builder,
) -> int:
    n = len(text)
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {begin_byte}")
    j = i + 2
    while j < n and not text[j].isspace() and text[j] != ">":
        j += 1
    end_name = text[i + 2 : j].lower()
    while j < n and text[j].isspace():
        j += 1
    if j >= n or text[j] != ">":
        raise EntityParseError(f"Unclosed end tag at byte offset {begin_byte}")
    opened = stack[-1]
    if end_name and end_name != opened.name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {begin_byte}, "
            f'expected "</{opened.name}>", found "</{end_name}>"'
        )
    stack.pop()
    length = out.units - opened.offset
    if length > 0:
        entity = _html_entity(opened, length)
        if entity is not None:
            entities.append(entity)
    return j + 1


def _html_entity(tag: _OpenTag, length: int) -> Entity | None:
    base: Entity = {"offset": tag.offset, "length": length}
    attrs = tag.attributes
    if tag.name in _SIMPLE_TAG_TYPES:
        entity = {"type": _SIMPLE_TAG_TYPES[tag.name], **base}
        if tag.name == "code":
            css = attrs.get("class", "")
            if css.startswith("language-") and len(css) > len("language-"):
                entity["_language"] = css[len("language-") :]
        return entity
    if tag.name == "span":
        return {"type": "spoiler", **base}
    if tag.name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return {"type": kind, **base}
    if tag.name == "a":
        href = attrs.get("href", "")
        user = re.fullmatch(r"tg://user\?id=(\d+)", href.strip())
        if user is not None:
            user_id = int(user.group(1))
            return {
                "type": "text_mention",
                **base,
                "user": {"id": user_id, "is_bot": False, "first_name": str(user_id)},
            }
        url = normalize_url(href)
        if url is None:
            return None
        return {"type": "text_link", **base, "url": url}
    if tag.name == "tg-emoji":
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id.isdigit():
            return None
        return {"type": "custom_emoji", **base, "custom_emoji_id": emoji_id}
    if tag.name == "tg-time":
        unix = attrs.get("unix", "")
        if not unix.lstrip("-").isdigit():
            return None
        entity = {"type": "date_time", **base, "unix_time": int(unix)}
        if attrs.get("format"):
            entity["date_time_format"] = attrs["format"]
        return entity
    return None  # pragma: no cover - every supported tag is handled above


def _merge_pre_code(entities: list[Entity]) -> list[Entity]:
    """<pre><code class="language-x">..</code></pre> is one pre entity with a language."""
    pres = {(e["offset"], e["length"]): e for e in entities if e["type"] == "pre"}
    result: list[Entity] = []
    for entity in entities:
        language = entity.pop("_language", None)
        if entity["type"] == "code":
            pre = pres.get((entity["offset"], entity["length"]))
            if pre is not None:
                if language:
                    pre["language"] = language
                continue
        result.append(entity)
    return sort_entities(result)


# --------------------------------------------------------------------------- MarkdownV2

_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "link": "TextUrl",
    "emoji": "CustomEmoji",
}


@dataclass
class _MdOpen:
    kind: str
    offset: int
    byte_pos: int


def parse_markdown_v2(text: str) -> tuple[str, list[Entity]]:
    """Parse MarkdownV2 into (plain text, entities)."""
    out = _Builder()
    stack: list[_MdOpen] = []
    entities: list[Entity] = []
    quote_start: int | None = None
    quote_end = 0
    i = 0
    n = len(text)
    at_line_start = True
    while i < n:
        ch = text[i]
        if at_line_start:
            at_line_start = False
            if ch == ">":
                if quote_start is None:
                    quote_start = out.units
                i += 1
                continue
            if quote_start is not None:
                if quote_end > quote_start:
                    entities.append(
                        {
                            "type": "blockquote",
                            "offset": quote_start,
                            "length": quote_end - quote_start,
                        }
                    )
                quote_start = None
        if ch == "\\":
            if i + 1 < n and 1 <= ord(text[i + 1]) <= 126:
                out.add(text[i + 1])
                i += 2
                continue
            out.add(ch)
            i += 1
            continue
        if ch == "\n":
            quote_end = out.units
            out.add(ch)
            i += 1
            at_line_start = True
            continue
        if ch == "`":
            i = _md_code(text, i, out, entities)
            continue
        kind: str | None = None
        width = 1
        if ch == "*":
            kind = "bold"
        elif ch == "_":
            if text.startswith("__", i) and not (stack and stack[-1].kind == "italic"):
                kind, width = "underline", 2
            else:
                kind = "italic"
        elif ch == "~":
            kind = "strikethrough"
        elif ch == "|" and text.startswith("||", i):
            kind, width = "spoiler", 2
        elif ch == "[":
            stack.append(_MdOpen("link", out.units, _byte_offset(text, i)))
            i += 1
            continue
        elif ch == "!" and text.startswith("![", i):
            stack.append(_MdOpen("emoji", out.units, _byte_offset(text, i)))
            i += 2
            continue
        elif ch == "]" and stack and stack[-1].kind in {"link", "emoji"}:
            i = _md_link_end(text, i, stack.pop(), out, entities)
            continue
        if kind is not None:
            if stack and stack[-1].kind == kind:
                opened = stack.pop()
                if out.units > opened.offset:
                    entities.append(
                        {"type": kind, "offset": opened.offset, "length": out.units - opened.offset}
                    )
            elif any(item.kind == kind for item in stack):
                opened = next(item for item in stack if item.kind == kind)
                raise EntityParseError(
                    f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {opened.byte_pos}"
                )
            else:
                stack.append(_MdOpen(kind, out.units, _byte_offset(text, i)))
            i += width
            continue
        if ch in _MDV2_RESERVED:
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(ch)
        i += 1
    if quote_start is not None and out.units > quote_start:
        entities.append(
            {"type": "blockquote", "offset": quote_start, "length": out.units - quote_start}
        )
    if stack:
        opened = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[opened.kind]} entity at byte offset {opened.byte_pos}"
        )
    return out.text(), sort_entities(entities)


def _md_code(text: str, i: int, out: _Builder, entities: list[Entity]) -> int:
    n = len(text)
    start_byte = _byte_offset(text, i)
    if text.startswith("```", i):
        j = i + 3
        language: str | None = None
        newline = text.find("\n", j)
        if newline != -1:
            first_line = text[j:newline]
            if first_line and not any(c.isspace() for c in first_line) and "`" not in first_line:
                language = first_line
                j = newline + 1
            elif not first_line:
                j = newline + 1
        content, j = _md_read_until(text, j, "```")
        if j < 0:
            raise EntityParseError(f"Can't find end of Pre entity at byte offset {start_byte}")
        offset = out.units
        out.add(content)
        if out.units > offset:
            entity: Entity = {"type": "pre", "offset": offset, "length": out.units - offset}
            if language:
                entity["language"] = language
            entities.append(entity)
        return j
    content, j = _md_read_until(text, i + 1, "`")
    if j < 0 or j > n:
        raise EntityParseError(f"Can't find end of Code entity at byte offset {start_byte}")
    offset = out.units
    out.add(content)
    if out.units > offset:
        entities.append({"type": "code", "offset": offset, "length": out.units - offset})
    return j


def _md_read_until(text: str, j: int, terminator: str) -> tuple[str, int]:
    """Read escaped content until ``terminator``; returns (content, index after it) or -1."""
    chars: list[str] = []
    n = len(text)
    while j < n:
        if text[j] == "\\" and j + 1 < n:
            chars.append(text[j + 1])
            j += 2
            continue
        if text.startswith(terminator, j):
            return "".join(chars), j + len(terminator)
        chars.append(text[j])
        j += 1
    return "".join(chars), -1


def _md_link_end(text: str, i: int, opened: _MdOpen, out: _Builder, entities: list[Entity]) -> int:
    j = i + 1
    if j >= len(text) or text[j] != "(":
        if opened.kind == "emoji":
            raise EntityParseError(
                "Custom emoji entity must contain a tg://emoji URL at byte offset "
                f"{opened.byte_pos}"
            )
        return j  # "[text]" without a URL: plain text
    target, end = _md_read_until(text, j + 1, ")")
    if end < 0:
        raise EntityParseError(f"Can't find end of a URL at byte offset {_byte_offset(text, j)}")
    length = out.units - opened.offset
    if length > 0:
        if opened.kind == "emoji":
            match = re.fullmatch(r"tg://emoji\?id=(\d+)", target)
            if match is None:
                raise EntityParseError(
                    "Custom emoji URL must have an emoji identifier at byte offset "
                    f"{opened.byte_pos}"
                )
            entities.append(
                {
                    "type": "custom_emoji",
                    "offset": opened.offset,
                    "length": length,
                    "custom_emoji_id": match.group(1),
                }
            )
        else:
            url = normalize_url(target)
            if url is not None:
                entities.append(
                    {"type": "text_link", "offset": opened.offset, "length": length, "url": url}
                )
    return end


# --------------------------------------------------------------------------- legacy Markdown


def parse_markdown(text: str) -> tuple[str, list[Entity]]:
    """Parse legacy Markdown (``*bold* _italic_ `code` ```pre``` [text](url)``)."""
    out = _Builder()
    entities: list[Entity] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n and text[i + 1] in "_*`[":
            out.add(text[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.add(ch)
            i += 1
            continue
        start_byte = _byte_offset(text, i)
        error = EntityParseError(
            f"Can't find end of the entity starting at byte offset {start_byte}"
        )
        if text.startswith("```", i):
            end = text.find("```", i + 3)
            if end < 0:
                raise error
            body = text[i + 3 : end]
            language = None
            if "\n" in body:
                first, rest = body.split("\n", 1)
                if first and not any(c.isspace() for c in first):
                    language, body = first, rest
            offset = out.units
            out.add(body)
            if out.units > offset:
                entity: Entity = {"type": "pre", "offset": offset, "length": out.units - offset}
                if language:
                    entity["language"] = language
                entities.append(entity)
            i = end + 3
            continue
        if ch == "[":
            close = text.find("]", i + 1)
            if close < 0:
                raise error
            label = text[i + 1 : close]
            offset = out.units
            out.add(label)
            if close + 1 < n and text[close + 1] == "(":
                end = text.find(")", close + 2)
                if end < 0:
                    raise error
                url = normalize_url(text[close + 2 : end])
                if url is not None and out.units > offset:
                    entities.append(
                        {
                            "type": "text_link",
                            "offset": offset,
                            "length": out.units - offset,
                            "url": url,
                        }
                    )
                i = end + 1
            else:
                i = close + 1
            continue
        end = text.find(ch, i + 1)
        if end < 0:
            raise error
        kind = {"*": "bold", "_": "italic", "`": "code"}[ch]
        offset = out.units
        out.add(text[i + 1 : end])
        if out.units > offset:
            entities.append({"type": kind, "offset": offset, "length": out.units - offset})
        i = end + 1
    return out.text(), sort_entities(entities)


# --------------------------------------------------------------------------- entity checks

_ENTITY_TYPES = {
    "mention",
    "hashtag",
    "cashtag",
    "bot_command",
    "url",
    "email",
    "phone_number",
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "blockquote",
    "expandable_blockquote",
    "code",
    "pre",
    "text_link",
    "text_mention",
    "custom_emoji",
    "date_time",
}


def validate_entities(text: str, raw: Any) -> list[Entity]:
    """Validate an explicit ``entities``/``caption_entities`` parameter."""
    if not isinstance(raw, list):
        raise EntityParseError("entities must be an array")
    total = utf16_len(text)
    result: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict):
            raise EntityParseError("entity must be an object")
        kind = item.get("type")
        offset = item.get("offset")
        length = item.get("length")
        if kind not in _ENTITY_TYPES:
            raise EntityParseError(f'unsupported entity type "{kind}"')
        if not isinstance(offset, int) or not isinstance(length, int):
            raise EntityParseError("entity offset and length must be integers")
        if offset < 0 or length <= 0 or offset + length > total:
            continue  # Telegram silently drops entities that fall outside the text
        entity: Entity = {"type": kind, "offset": offset, "length": length}
        for extra in (
            "url",
            "user",
            "language",
            "custom_emoji_id",
            "unix_time",
            "date_time_format",
        ):
            if extra in item:
                entity[extra] = item[extra]
        if kind == "text_link":
            url = normalize_url(str(entity.get("url", "")))
            if url is None:
                continue
            entity["url"] = url
        result.append(entity)
    return sort_entities(result)


# --------------------------------------------------------------------------- auto-detection

_AUTO_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?<![\w@/])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)),
    (
        "bot_command",
        re.compile(r"(?<![\w/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z][A-Za-z0-9_]{2,31})?(?![\w/<>])"),
    ),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w{1,256}")),
    ("cashtag", re.compile(r"(?<![\w$])\$[A-Z]{3,8}(?![\w])")),
]

_BLOCKING_TYPES = {"code", "pre", "text_link", "text_mention", "custom_emoji", "date_time"}


def detect_entities(text: str, entities: list[Entity]) -> list[Entity]:
    """Add the entities Telegram detects by itself (commands, URLs, mentions, ...)."""
    taken: list[tuple[int, int]] = [
        (e["offset"], e["offset"] + e["length"]) for e in entities if e["type"] in _BLOCKING_TYPES
    ]
    found: list[Entity] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            chunk = match.group(0)
            if kind == "url":
                chunk = chunk.rstrip(".,;:!?)'\"")
                if not chunk or chunk.lower() in {"http://", "https://", "www."}:
                    continue
            start = utf16_len(text[: match.start()])
            end = start + utf16_len(chunk)
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            found.append({"type": kind, "offset": start, "length": end - start})
    return sort_entities(entities + found)


# --------------------------------------------------------------------------- rendering

_AUTO_TYPES = {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number"}


def _open_tag(entity: Entity) -> str:
    kind = entity["type"]
    simple = {
        "bold": "<b>",
        "italic": "<i>",
        "underline": "<u>",
        "strikethrough": "<s>",
        "spoiler": "<tg-spoiler>",
        "code": "<code>",
        "blockquote": "<blockquote>",
        "expandable_blockquote": "<blockquote expandable>",
    }
    if kind in simple:
        return simple[kind]
    if kind == "pre":
        language = entity.get("language")
        if language:
            return f'<pre><code class="language-{html.escape(str(language))}">'
        return "<pre>"
    if kind == "text_link":
        return f'<a href="{html.escape(str(entity.get("url", "")))}">'
    if kind == "text_mention":
        user = entity.get("user") or {}
        return f'<a href="tg://user?id={user.get("id")}">'
    if kind == "custom_emoji":
        return f'<tg-emoji emoji-id="{entity.get("custom_emoji_id")}">'
    if kind == "date_time":
        fmt = entity.get("date_time_format")
        extra = f' format="{html.escape(str(fmt))}"' if fmt else ""
        return f'<tg-time unix="{entity.get("unix_time")}"{extra}>'
    return ""


def _close_tag(entity: Entity) -> str:
    kind = entity["type"]
    simple = {
        "bold": "</b>",
        "italic": "</i>",
        "underline": "</u>",
        "strikethrough": "</s>",
        "spoiler": "</tg-spoiler>",
        "code": "</code>",
        "blockquote": "</blockquote>",
        "expandable_blockquote": "</blockquote>",
        "text_link": "</a>",
        "text_mention": "</a>",
        "custom_emoji": "</tg-emoji>",
        "date_time": "</tg-time>",
    }
    if kind in simple:
        return simple[kind]
    if kind == "pre":
        return "</code></pre>" if entity.get("language") else "</pre>"
    return ""


def entities_to_html(text: str, entities: list[Entity]) -> str:
    """Render plain text + entities back to Telegram HTML (auto entities are left as text)."""
    index_of: dict[int, int] = {}
    units = 0
    for index, ch in enumerate(text):
        index_of[units] = index
        units += _units(ch)
    index_of[units] = len(text)
    opens: dict[int, list[tuple[int, Entity]]] = defaultdict(list)
    closes: dict[int, list[tuple[int, Entity]]] = defaultdict(list)
    for number, entity in enumerate(
        sort_entities([e for e in entities if e["type"] not in _AUTO_TYPES])
    ):
        start = index_of.get(entity["offset"])
        end = index_of.get(entity["offset"] + entity["length"])
        if start is None or end is None:
            continue
        opens[start].append((number, entity))
        closes[end].append((number, entity))
    chunks: list[str] = []
    for index in range(len(text) + 1):
        for _, entity in sorted(closes.get(index, []), key=lambda item: -item[0]):
            chunks.append(_close_tag(entity))
        if index < len(text):
            for _, entity in opens.get(index, []):
                chunks.append(_open_tag(entity))
            chunks.append(html.escape(text[index], quote=False))
    return "".join(chunks)


def parse_text(
    text: str, parse_mode: str | None, *, strict_html_entities: bool = False
) -> tuple[str, list[Entity]]:
    """Dispatch on parse_mode (case-insensitive, like Telegram)."""
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text, strict_entities=strict_html_entities)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")
