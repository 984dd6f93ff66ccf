"""Actors that play humans and produce raw Update dicts (Bot API shape).

Every message an actor "sends" is also stored in the fake server's chat history, so message
ids are shared with the bot's messages exactly like in a real chat.  The returned dicts are
meant for ``await dp.feed_raw_update(bot, update)`` (or ``tg.push_update(update)`` for long
polling, or ``await tg.deliver_webhook(update)`` for webhook mode).

    alice = tg.person(42, "Alice")
    await dp.feed_raw_update(bot, alice.command("start"))
    await dp.feed_raw_update(bot, alice.press(tg.last_bot_message(42), "Report"))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from .formatting import detect_entities, strip_text
from .media import tiny_png
from .state import JSON, FakeChat, FakeUser, StoredMessage

if TYPE_CHECKING:
    from .server import FakeTelegram, MessageRef


class _Self:
    def __repr__(self) -> str:
        return "SELF"


SELF: Final = _Self()
"""Default for ``share_contact(user_id=...)``: the person's own contact."""


class Person:
    """A Telegram user.  Methods return Update dicts with fresh, increasing update_ids."""

    def __init__(self, tg: FakeTelegram, user: FakeUser) -> None:
        self.tg = tg
        self.user = user

    def __repr__(self) -> str:
        return f"Person({self.user.id}, {self.user.first_name!r})"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def first_name(self) -> str:
        return self.user.first_name

    @property
    def chat_id(self) -> int:
        """The private chat with the bot (== user id)."""
        return self.user.id

    # ------------------------------------------------------------------ internals
    def _chat(self, chat_id: int | Group | FakeChat | None) -> FakeChat:
        if chat_id is None:
            return self.tg.chats[self.id]
        if isinstance(chat_id, Group):
            return chat_id.chat
        if isinstance(chat_id, FakeChat):
            return chat_id
        chat = self.tg.chats.get(int(chat_id))
        if chat is None:
            raise LookupError(f"unknown chat {chat_id}; create it with tg.add_group()")
        return chat

    def _reply_id(self, chat: FakeChat, reply_to: MessageRef | int | None) -> int | None:
        if reply_to is None:
            return None
        if isinstance(reply_to, int):
            message_id = reply_to
        elif isinstance(reply_to, StoredMessage):
            message_id = reply_to.message_id
        elif isinstance(reply_to, Mapping):
            message_id = int(reply_to["message_id"])
        else:
            message_id = int(reply_to.message_id)
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            raise LookupError(f"no message {message_id} in chat {chat.id} to reply to")
        return message_id

    def _send(
        self,
        chat_id: int | Group | FakeChat | None,
        reply_to: MessageRef | int | None,
        thread_id: int | None,
        **fields: Any,
    ) -> JSON:
        chat = self._chat(chat_id)
        if thread_id is not None and not chat.is_forum:
            raise ValueError(f"chat {chat.id} is not a forum; thread_id needs forum=True")
        msg = self.tg.store_user_message(
            chat.id,
            self.id,
            reply_to_message_id=self._reply_id(chat, reply_to),
            message_thread_id=thread_id,
            **fields,
        )
        return {"update_id": self.tg.next_update_id(), "message": self.tg.message_dict(msg)}

    @staticmethod
    def _text_fields(text: str, entities: list[JSON] | None = None) -> tuple[str, list[JSON]]:
        plain, clean = strip_text(text, list(entities or []))
        return plain, detect_entities(plain, clean)

    # ------------------------------------------------------------------ messages
    def text(
        self,
        text: str,
        chat_id: int | Group | FakeChat | None = None,
        reply_to: MessageRef | int | None = None,
        thread_id: int | None = None,
        *,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A text message (private chat by default).  Commands/URLs/mentions get entities."""
        plain, found = self._text_fields(text, entities)
        if not plain:
            raise ValueError("Telegram clients cannot send an empty message")
        return self._send(chat_id, reply_to, thread_id, text=plain, entities=found)

    def command(
        self,
        command: str,
        args: str | None = None,
        chat_id: int | Group | FakeChat | None = None,
        reply_to: MessageRef | int | None = None,
        thread_id: int | None = None,
        *,
        mention_bot: bool = False,
    ) -> JSON:
        """``/command[@bot] [args]`` with a bot_command entity."""
        text = "/" + command.lstrip("/")
        if mention_bot:
            text += f"@{self.tg.bot_user.username}"
        if args:
            text += f" {args}"
        return self.text(text, chat_id, reply_to, thread_id)

    def start(self, payload: str | None = None) -> JSON:
        """Open the bot (``/start [payload]``) - also makes the bot allowed to write."""
        self.user.started = True
        return self.command("start", payload)

    def share_contact(
        self,
        phone: str | None = None,
        user_id: int | _Self | None = SELF,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        chat_id: int | Group | FakeChat | None = None,
    ) -> JSON:
        """Share a contact.  Default: own contact (user_id == sender).  Pass another id for
        someone else's contact, or ``user_id=None`` for a contact without a Telegram user."""
        contact: JSON = {}
        if isinstance(user_id, _Self):
            contact["phone_number"] = phone or self.user.phone or f"+4477009{self.id % 100000:05d}"
            contact["first_name"] = first_name or self.user.first_name
            if last_name or self.user.last_name:
                contact["last_name"] = last_name or self.user.last_name
            contact["user_id"] = self.id
        else:
            other = self.tg.users.get(user_id) if user_id is not None else None
            contact["phone_number"] = phone or (other.phone if other else None) or "+447700900000"
            contact["first_name"] = first_name or (other.first_name if other else "Contact")
            if last_name:
                contact["last_name"] = last_name
            if user_id is not None:
                contact["user_id"] = user_id
        return self._send(chat_id, None, None, media={"contact": contact})

    def photo(
        self,
        caption: str | None = None,
        media_group_id: str | None = None,
        chat_id: int | Group | FakeChat | None = None,
        reply_to: MessageRef | int | None = None,
        *,
        content: bytes | None = None,
        thread_id: int | None = None,
    ) -> JSON:
        """A photo (the file is stored in the fake, so getFile/download work)."""
        stored = self.tg.add_file(content if content is not None else tiny_png(), "photo")
        fields: JSON = {"media": {"photo": stored.photo_sizes()}}
        if caption:
            plain, found = self._text_fields(caption)
            fields.update(caption=plain or None, entities=found if plain else [])
        return self._send(chat_id, reply_to, thread_id, media_group_id=media_group_id, **fields)

    def album(
        self,
        count: int = 2,
        caption: str | None = None,
        chat_id: int | Group | FakeChat | None = None,
    ) -> list[JSON]:
        """Several photos sharing a media_group_id (caption on the first one)."""
        group_id = self.tg.next_media_group_id()
        return [self.photo(caption if i == 0 else None, group_id, chat_id) for i in range(count)]

    def sticker(self, emoji: str = "👍", chat_id: int | Group | FakeChat | None = None) -> JSON:
        stored = self.tg.add_file(
            b"RIFF\x00\x00\x00\x00WEBPVP8 fake", "sticker", width=512, height=512
        )
        sticker = {**stored.media_object(), "emoji": emoji}
        return self._send(chat_id, None, None, media={"sticker": sticker})

    def voice(
        self,
        duration: int = 3,
        chat_id: int | Group | FakeChat | None = None,
        *,
        content: bytes | None = None,
    ) -> JSON:
        stored = self.tg.add_file(
            content if content is not None else b"OggS\x00fake-voice",
            "voice",
            duration=duration,
            mime_type="audio/ogg",
        )
        return self._send(chat_id, None, None, media={"voice": stored.media_object()})

    def document(
        self,
        content: bytes = b"%PDF-1.4\n% fake document\n",
        file_name: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
        chat_id: int | Group | FakeChat | None = None,
        reply_to: MessageRef | int | None = None,
    ) -> JSON:
        stored = self.tg.add_file(content, "document", file_name=file_name, mime_type=mime_type)
        fields: JSON = {"media": {"document": stored.media_object()}}
        if caption:
            plain, found = self._text_fields(caption)
            fields.update(caption=plain or None, entities=found if plain else [])
        return self._send(chat_id, reply_to, None, **fields)

    def location(
        self,
        latitude: float = 51.5074,
        longitude: float = -0.1278,
        chat_id: int | Group | FakeChat | None = None,
    ) -> JSON:
        return self._send(
            chat_id, None, None, media={"location": {"latitude": latitude, "longitude": longitude}}
        )

    def tap_reply_button(
        self,
        text: str,
        chat_id: int | Group | FakeChat | None = None,
        *,
        check: bool = True,
    ) -> JSON:
        """Tap a button of the reply keyboard the bot is showing: sends its text (or the
        contact/location for request_contact/request_location buttons).  With check=True
        the button must exist (exact text, else unique substring) in the current keyboard."""
        chat = self._chat(chat_id)
        keyboard = chat.reply_keyboard
        if not check:
            return self.text(text, chat)
        if keyboard is None:
            raise LookupError(f"no reply keyboard is shown in chat {chat.id}")
        buttons = [b for row in keyboard.get("keyboard", []) for b in row]
        exact = [b for b in buttons if b.get("text") == text]
        partial = [b for b in buttons if text.lower() in str(b.get("text", "")).lower()]
        chosen = exact[0] if exact else (partial[0] if len(partial) == 1 else None)
        if chosen is None:
            raise LookupError(
                f"reply keyboard has no unique button matching {text!r}: "
                f"{[b.get('text') for b in buttons]}"
            )
        if keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None
        if chosen.get("request_contact"):
            return self.share_contact(chat_id=chat)
        if chosen.get("request_location"):
            return self.location(chat_id=chat)
        return self.text(str(chosen["text"]), chat)

    def edit(self, message: MessageRef, new_text: str) -> JSON:
        """The user edits one of their text messages -> ``edited_message`` update."""
        stored = self.tg.resolve_message(message)
        if stored.sent_by_bot or stored.from_user.get("id") != self.id:
            raise ValueError("a person can only edit their own messages")
        plain, found = self._text_fields(new_text)
        stored.history.append({"text": stored.text, "entities": stored.entities})
        stored.text, stored.entities = plain, found
        stored.edit_count += 1
        stored.edit_date = int(self.tg.clock())
        return {"update_id": self.tg.next_update_id(), "edited_message": stored.to_api()}

    # ------------------------------------------------------------------ callback queries
    def press(self, message: MessageRef, button_text: str) -> JSON:
        """Press an inline button (matched on the message's *current* keyboard)."""
        stored = self._pressable(message)
        button = self.tg.find_inline_button(stored, button_text)
        data = button.get("callback_data")
        if data is None:
            raise LookupError(f"button {button.get('text')!r} has no callback_data")
        return self._callback(stored, str(data))

    def press_data(self, message: MessageRef, data: str) -> JSON:
        """A callback query with forged ``data`` (not necessarily on the keyboard)."""
        return self._callback(self._pressable(message), data)

    def _pressable(self, message: MessageRef) -> StoredMessage:
        stored = self.tg.resolve_message(message)
        if stored.deleted:
            raise LookupError(f"message {stored.message_id} was deleted")
        chat = self.tg.chats[stored.chat_id]
        if chat.type == "private" and chat.id != self.id:
            raise ValueError("cannot press buttons in someone else's private chat")
        return stored

    def _callback(self, stored: StoredMessage, data: str) -> JSON:
        query_id = self.tg.register_callback_query(self.id, stored, data)
        instance = (abs(stored.chat_id) * 1_000_003 + self.tg.bot_id) % 9_000_000_000_000_000_000
        query: JSON = {
            "id": query_id,
            "from": self.user.to_api(),
            "message": stored.to_api(),
            "chat_instance": str(instance),
            "data": data,
        }
        return {"update_id": self.tg.next_update_id(), "callback_query": query}

    # ------------------------------------------------------------------ bot membership
    def block_bot(self) -> JSON:
        """The user blocks the bot -> my_chat_member update (member -> kicked)."""
        self.tg.block(self.id)
        return self._private_member_update("member", "kicked")

    def unblock_bot(self) -> JSON:
        """The user unblocks the bot -> my_chat_member update (kicked -> member)."""
        self.tg.unblock(self.id)
        self.user.started = True
        return self._private_member_update("kicked", "member")

    def _private_member_update(self, old: str, new: str) -> JSON:
        chat = self.tg.chats[self.id]
        return {
            "update_id": self.tg.next_update_id(),
            "my_chat_member": {
                "chat": chat.to_api(),
                "from": self.user.to_api(),
                "date": int(self.tg.clock()),
                "old_chat_member": self.tg.member_object(self.tg.bot_user, old),
                "new_chat_member": self.tg.member_object(self.tg.bot_user, new),
            },
        }


class Group:
    """Helper for a group/supergroup chat."""

    def __init__(self, tg: FakeTelegram, chat: FakeChat) -> None:
        self.tg = tg
        self.chat = chat

    def __repr__(self) -> str:
        return f"Group({self.chat.id}, {self.chat.title!r})"

    @property
    def id(self) -> int:
        return self.chat.id

    def _member_update(self, by: Person, old: str, new: str) -> JSON:
        return {
            "update_id": self.tg.next_update_id(),
            "my_chat_member": {
                "chat": self.chat.to_api(),
                "from": by.user.to_api(),
                "date": int(self.tg.clock()),
                "old_chat_member": self.tg.member_object(self.tg.bot_user, old),
                "new_chat_member": self.tg.member_object(self.tg.bot_user, new),
            },
        }

    def add_bot(self, by: Person, admin: bool = False) -> JSON:
        """``by`` adds the bot to the group -> my_chat_member (left -> member/administrator)."""
        old = self.chat.members.get(self.tg.bot_id, "left")
        if old in {"member", "administrator"} and not self.chat.kicked:
            old = "left"
        self.tg.rejoin(self.chat.id, admin=admin)
        self.chat.members.setdefault(by.id, "member")
        return self._member_update(by, old, "administrator" if admin else "member")

    def remove_bot(self, by: Person) -> JSON:
        """``by`` removes the bot -> my_chat_member (-> left in groups, kicked in supergroups)."""
        old = self.chat.members.get(self.tg.bot_id, "member")
        self.tg.kick(self.chat.id)
        return self._member_update(by, old, self.chat.members[self.tg.bot_id])

    def join(self, person: Person) -> JSON:
        """``person`` joins: a service message with new_chat_members."""
        self.chat.members[person.id] = "member"
        msg = self.tg.store_user_message(
            self.chat.id,
            person.id,
            service=True,
            media={"new_chat_members": [person.user.to_api()]},
        )
        return {"update_id": self.tg.next_update_id(), "message": msg.to_api()}

    def upgrade(self, new_supergroup_id: int) -> Group:
        """Migrate to a supergroup (see FakeTelegram.upgrade); returns the new Group."""
        return Group(self.tg, self.tg.upgrade(self.chat.id, new_supergroup_id))

    def text(self, person: Person, text: str, **kwargs: Any) -> JSON:
        """Shortcut for ``person.text(text, chat_id=group)``."""
        return person.text(text, self, **kwargs)
