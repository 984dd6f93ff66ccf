"""In-memory state of the fake Telegram: users, chats, messages, files, recorded calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .formatting import entities_to_html

if TYPE_CHECKING:
    from .server import FakeTelegram

JSON = dict[str, Any]


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., ...}``."""

    def __init__(self, error_code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(f"{error_code} {description}")
        self.error_code = error_code
        self.description = description
        self.parameters = parameters

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, parameters: JSON | None = None) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", parameters)


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")


@dataclass
class Upload:
    """A file part of a multipart request."""

    field_name: str
    filename: str | None
    content_type: str | None
    data: bytes = field(repr=False)


@dataclass
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False
    phone: str | None = None
    is_premium: bool = False
    started: bool = True
    """False: the user never opened the bot -> "bot can't initiate conversation"."""
    blocked: bool = False
    deactivated: bool = False

    def to_api(self) -> JSON:
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code and not self.is_bot:
            data["language_code"] = self.language_code
        if self.is_premium:
            data["is_premium"] = True
        return data


@dataclass
class FakeChat:
    id: int
    type: str  # "private" | "group" | "supergroup"
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    user: FakeUser | None = None
    kicked: bool = False
    migrated_to: int | None = None
    migrated_from: int | None = None
    bot_admin: bool = True
    members: dict[int, str] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict, repr=False)
    last_message_id: int = 0
    pinned_message_id: int | None = None
    menu_button: JSON | None = None
    reply_keyboard: JSON | None = None
    """The custom reply keyboard currently shown (None when hidden)."""
    description: str | None = None

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id

    def to_api(self) -> JSON:
        if self.type == "private" and self.user is not None:
            data: JSON = {"id": self.id, "type": "private", "first_name": self.user.first_name}
            if self.user.last_name:
                data["last_name"] = self.user.last_name
            if self.user.username:
                data["username"] = self.user.username
            return data
        data = {"id": self.id, "type": self.type, "title": self.title or ""}
        if self.username:
            data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo | document | voice | sticker | video | audio | animation
    content: bytes = field(repr=False)
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    duration: int | None = None
    file_path: str = ""
    photo_set: list[StoredFile] = field(default_factory=list, repr=False)
    """For photos: every PhotoSize of the same photo (smallest first), including self."""

    @property
    def file_size(self) -> int:
        return len(self.content)

    def photo_size(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "width": self.width or 0,
            "height": self.height or 0,
        }

    def photo_sizes(self) -> list[JSON]:
        return [size.photo_size() for size in (self.photo_set or [self])]

    def to_file(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }

    def media_object(self) -> JSON:
        """The object that goes into a Message (document/voice/sticker/...)."""
        data: JSON = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.kind == "document":
            if self.file_name:
                data["file_name"] = self.file_name
            if self.mime_type:
                data["mime_type"] = self.mime_type
        elif self.kind in {"voice", "audio"}:
            data["duration"] = self.duration or 1
            if self.mime_type:
                data["mime_type"] = self.mime_type
        elif self.kind == "sticker":
            data.update(
                {
                    "type": "regular",
                    "width": self.width or 512,
                    "height": self.height or 512,
                    "is_animated": False,
                    "is_video": False,
                }
            )
        elif self.kind in {"video", "animation"}:
            data.update(
                {
                    "width": self.width or 640,
                    "height": self.height or 360,
                    "duration": self.duration or 1,
                }
            )
            if self.file_name:
                data["file_name"] = self.file_name
            if self.mime_type:
                data["mime_type"] = self.mime_type
        return data


@dataclass
class StoredMessage:
    """One message of a chat, sent by the bot or by a user (through an actor)."""

    chat_id: int
    message_id: int
    from_user: JSON
    date: int
    sent_by_bot: bool
    text: str | None = None
    caption: str | None = None
    entities: list[JSON] = field(default_factory=list)
    """Entities of ``text`` or ``caption`` (whichever the message has)."""
    raw_text: str | None = None
    """The text/caption exactly as the bot sent it (e.g. the HTML source)."""
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    reply_to_message_id: int | None = None
    message_thread_id: int | None = None
    media_group_id: str | None = None
    media: JSON = field(default_factory=dict)
    """Media/service fields copied into the Message object: photo, document, sticker,
    voice, contact, location, pinned_message, new_chat_members, ..."""
    forward_origin: JSON | None = None
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    method: str | None = None
    """Bot API method that created the message (None for user messages)."""
    params: JSON = field(default_factory=dict, repr=False)
    """Parameters of the creating call (bot messages)."""
    history: list[JSON] = field(default_factory=list, repr=False)
    """Previous versions: {"text", "caption", "entities", "reply_markup", "raw_text"}."""
    protect_content: bool = False
    service: bool = False
    """A service message (pinned_message, migrate_to_chat_id, new_chat_members, ...)."""
    owner: FakeTelegram | None = field(default=None, repr=False, compare=False)

    # ---- convenience -------------------------------------------------------------------
    @property
    def content(self) -> str:
        """Text or caption (plain), '' if none."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def html(self) -> str:
        """The HTML source as sent (parse_mode=HTML) or rendered from the entities."""
        if self.raw_text is not None and (self.parse_mode or "").lower() == "html":
            return self.raw_text
        return entities_to_html(self.content, self.entities)

    @property
    def is_from_bot(self) -> bool:
        return self.sent_by_bot

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            rows: list[list[JSON]] = self.reply_markup["inline_keyboard"]
            return rows
        return []

    @property
    def button_texts(self) -> list[list[str]]:
        """Texts of the inline keyboard, or of the reply keyboard, row by row."""
        if self.inline_keyboard:
            return [[str(b.get("text", "")) for b in row] for row in self.inline_keyboard]
        if self.reply_markup and "keyboard" in self.reply_markup:
            return [[str(b.get("text", "")) for b in row] for row in self.reply_markup["keyboard"]]
        return []

    @property
    def photo(self) -> list[JSON]:
        photos: list[JSON] = self.media.get("photo", [])
        return photos

    @property
    def photo_file_ids(self) -> list[str]:
        return [str(size["file_id"]) for size in self.photo]

    @property
    def document_file_id(self) -> str | None:
        document = self.media.get("document")
        return str(document["file_id"]) if document else None

    @property
    def file_ids(self) -> list[str]:
        ids = list(self.photo_file_ids)
        for key in ("document", "voice", "sticker", "video", "audio", "animation"):
            obj = self.media.get(key)
            if obj:
                ids.append(str(obj["file_id"]))
        return ids

    def to_api(self) -> JSON:
        """The Message object as the Bot API returns it now (current state)."""
        if self.owner is None:
            raise RuntimeError("message is not attached to a FakeTelegram")
        return self.owner.message_dict(self)


@dataclass
class ApiCall:
    """One request the fake received."""

    method: str
    params: JSON
    ok: bool
    status: int
    """HTTP status; 0 when the connection was dropped on purpose."""
    error_code: int | None = None
    description: str | None = None
    result: Any = None
    files: list[str] = field(default_factory=list)
    """Names of uploaded multipart files."""
    source: str = "http"  # "http" | "webhook-reply"


@dataclass
class CallbackQueryState:
    id: str
    user_id: int
    chat_id: int | None
    message_id: int | None
    data: str | None
    created: float
    answered: bool = False
