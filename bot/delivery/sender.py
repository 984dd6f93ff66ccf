"""The outbox sender: delivers queued messages once, in order per chat, within Telegram's limits.

Each row is marked in its own short transaction right after Telegram answers, so a crash
between sending and marking repeats at most that one message.
"""

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import InlineKeyboardMarkup, InputMediaPhoto, Message, ReplyKeyboardMarkup
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.delivery.pacing import Pacer
from bot.domain.clock import Clock
from storage import outbox_repo
from storage.models import Department, Outbox, Resident, Staff, Ticket

log = logging.getLogger(__name__)

TAG = re.compile(r"<[^>]+>")
BATCH = 200
MAX_BACKOFF = 300.0


@dataclass
class Outcome:
    status: str  # sent, retry, failed
    message_id: int | None = None
    delay: float = 0.0
    error: str | None = None


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        pacer: Pacer,
        max_attempts: int = 8,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.pacer = pacer
        self.max_attempts = max_attempts
        self._wake = asyncio.Event()
        self._stopping = False

    def kick(self) -> None:
        self._wake.set()

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver everything due now (tests, and the tail of a handler)."""
        total = 0
        for _ in range(max_rounds):
            sent = await self.run_once()
            if sent == 0:
                break
            total += sent
        return total

    async def run_forever(self, idle: float = 1.0) -> None:
        while not self._stopping:
            try:
                handled = await self.run_once()
            except Exception:  # the sender must outlive any single bad row or outage
                log.exception("outbox round failed")
                handled = 0
            if handled:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=idle)
            except TimeoutError:
                pass

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run_once(self) -> int:
        async with self.sessions.begin() as session:
            rows = list(await outbox_repo.due_rows(session, self.clock.now(), BATCH))
        by_chat: dict[int, list[Outbox]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        results = await asyncio.gather(*(self._chat(chat_rows) for chat_rows in by_chat.values()))
        return sum(results)

    async def _chat(self, rows: Sequence[Outbox]) -> int:
        handled = 0
        for row in rows:
            await self.pacer.wait(row.chat_id)
            outcome = await self._attempt(row)
            await self._record(row, outcome)
            handled += 1
            if outcome.status == "retry":
                break  # later messages of this chat wait, to keep their order
        return handled

    async def _attempt(self, row: Outbox) -> Outcome:
        try:
            message_id = await self._deliver(row)
            return Outcome("sent", message_id)
        except TelegramRetryAfter as error:
            self.pacer.defer(row.chat_id, error.retry_after)
            return Outcome("retry", delay=float(error.retry_after), error="429")
        except TelegramMigrateToChat as error:
            await self._migrate(row.chat_id, error.migrate_to_chat_id)
            return Outcome("retry", delay=0.0, error="migrated")
        except TelegramForbiddenError as error:
            await self._forbidden(row, error.message)
            return Outcome("failed", error=f"403 {error.message}")
        except TelegramBadRequest as error:
            return await self._bad_request(row, error)
        except (TelegramServerError, TelegramNetworkError) as error:
            delay = min(MAX_BACKOFF, 2.0**row.attempts)
            return Outcome("retry", delay=delay, error=type(error).__name__)

    async def _bad_request(self, row: Outbox, error: TelegramBadRequest) -> Outcome:
        text = error.message.lower()
        if "message is not modified" in text:
            return Outcome("sent", row.message_id)
        if "message to edit not found" in text and row.op == "card":
            await self._forget_card(row)
            return Outcome("retry", delay=0.0, error="card lost, re-posting")
        if "can't parse entities" in text:
            log.error(
                "outbox %s: HTML rejected by Telegram (a formatting bug): %s", row.id, error.message
            )
            plain = dict(row.payload)
            plain["text"] = TAG.sub("", plain.get("text", ""))
            plain["plain"] = True
            try:
                return Outcome("sent", await self._deliver(row, plain))
            except TelegramBadRequest as again:
                return Outcome("failed", error=f"400 {again.message}")
        log.error("outbox %s: given up: %s", row.id, error.message)
        return Outcome("failed", error=f"400 {error.message}")

    async def _record(self, row: Outbox, outcome: Outcome) -> None:
        now = self.clock.now()
        async with self.sessions.begin() as session:
            values: dict[str, Any] = {"attempts": Outbox.attempts + 1, "last_error": outcome.error}
            if outcome.status == "sent":
                values.update(status="sent", sent_at=now, message_id=outcome.message_id)
            elif outcome.status == "retry" and row.attempts + 1 < self.max_attempts:
                values.update(next_attempt_at=now + timedelta(seconds=outcome.delay))
            elif outcome.status == "retry" and outcome.error in (
                "429",
                "migrated",
                "card lost, re-posting",
            ):
                values.update(next_attempt_at=now + timedelta(seconds=outcome.delay))
            else:
                values.update(status="failed")
                log.warning("outbox %s to chat %s failed: %s", row.id, row.chat_id, outcome.error)
            if outcome.error in ("migrated", "card lost, re-posting"):
                values["attempts"] = Outbox.attempts
            await session.execute(update(Outbox).where(Outbox.id == row.id).values(**values))

    # ---- the Bot API calls --------------------------------------------------------------
    async def _deliver(self, row: Outbox, payload: dict[str, Any] | None = None) -> int | None:
        data = payload or row.payload
        parse_mode = None if data.get("plain") else "HTML"
        markup = _markup(data.get("markup"))
        if row.op == "card":
            return await self._card(row, data, parse_mode, markup)
        reply_to = await self._reply_target(row, data)
        photos: list[str] = data.get("photos") or []
        text: str = data.get("text", "")
        sent: list[Message] = []
        if photos:
            sent.extend(await self._photos(row, photos, reply_to))
        if text:
            sent.append(
                await self.bot.send_message(
                    row.chat_id,
                    text,
                    parse_mode=parse_mode,
                    reply_markup=markup,
                    message_thread_id=row.thread_id,
                    reply_to_message_id=reply_to,
                    allow_sending_without_reply=True,
                )
            )
        await self._link(row, sent)
        return sent[-1].message_id if sent else None

    async def _photos(self, row: Outbox, photos: list[str], reply_to: int | None) -> list[Message]:
        if len(photos) == 1:
            return [
                await self.bot.send_photo(
                    row.chat_id,
                    photos[0],
                    message_thread_id=row.thread_id,
                    reply_to_message_id=reply_to,
                    allow_sending_without_reply=True,
                )
            ]
        media = [InputMediaPhoto(media=file_id) for file_id in photos[:10]]
        return list(
            await self.bot.send_media_group(
                row.chat_id,
                media,
                message_thread_id=row.thread_id,  # type: ignore[arg-type]
                reply_to_message_id=reply_to,
                allow_sending_without_reply=True,
            )
        )

    async def _card(
        self,
        row: Outbox,
        data: dict[str, Any],
        parse_mode: str | None,
        markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None,
    ) -> int | None:
        async with self.sessions.begin() as session:
            ticket = await session.get(Ticket, row.ticket_id)
            card_chat, card_id = (
                (ticket.card_chat_id, ticket.card_message_id) if ticket else (None, None)
            )
        inline = markup if isinstance(markup, InlineKeyboardMarkup) else None
        if card_id is not None and card_chat == row.chat_id:
            result = await self.bot.edit_message_text(
                text=data["text"],
                chat_id=row.chat_id,
                message_id=card_id,
                parse_mode=parse_mode,
                reply_markup=inline,
            )
            return card_id if not isinstance(result, Message) else result.message_id
        message = await self.bot.send_message(
            row.chat_id,
            data["text"],
            parse_mode=parse_mode,
            reply_markup=inline,
            message_thread_id=row.thread_id,
        )
        async with self.sessions.begin() as session:
            await session.execute(
                update(Ticket)
                .where(Ticket.id == row.ticket_id)
                .values(
                    card_chat_id=row.chat_id,
                    card_message_id=message.message_id,
                    card_thread_id=row.thread_id,
                )
            )
            if row.ticket_id is not None:
                await outbox_repo.link_message(
                    session, row.chat_id, message.message_id, row.ticket_id
                )
        return message.message_id

    async def _reply_target(self, row: Outbox, data: dict[str, Any]) -> int | None:
        if data.get("reply_to_card") and row.ticket_id is not None:
            async with self.sessions.begin() as session:
                ticket = await session.get(Ticket, row.ticket_id)
                if ticket is not None and ticket.card_chat_id == row.chat_id:
                    return ticket.card_message_id
            return None
        value = data.get("reply_to")
        return int(value) if value else None

    async def _link(self, row: Outbox, messages: Sequence[Message]) -> None:
        if row.ticket_id is None or not messages:
            return
        async with self.sessions.begin() as session:
            for message in messages:
                await outbox_repo.link_message(
                    session, row.chat_id, message.message_id, row.ticket_id
                )

    # ---- errors with a meaning ----------------------------------------------------------
    async def _forget_card(self, row: Outbox) -> None:
        async with self.sessions.begin() as session:
            await session.execute(
                update(Ticket).where(Ticket.id == row.ticket_id).values(card_message_id=None)
            )

    async def _migrate(self, old_chat: int, new_chat: int) -> None:
        log.info("chat %s was upgraded to %s; following it", old_chat, new_chat)
        async with self.sessions.begin() as session:
            await session.execute(
                update(Department).where(Department.chat_id == old_chat).values(chat_id=new_chat)
            )
            await session.execute(
                update(Outbox)
                .where(Outbox.chat_id == old_chat, Outbox.status == "pending")
                .values(chat_id=new_chat)
            )
            await session.execute(
                update(Ticket).where(Ticket.card_chat_id == old_chat).values(card_message_id=None)
            )

    async def _forbidden(self, row: Outbox, message: str) -> None:
        async with self.sessions.begin() as session:
            if row.chat_id > 0:
                resident = await session.scalar(
                    select(Resident).where(Resident.telegram_id == row.chat_id)
                )
                if resident is not None and "blocked" in message:
                    resident.unreachable = True
                staff = (
                    await session.scalars(select(Staff).where(Staff.telegram_id == row.chat_id))
                ).all()
                for member in staff:
                    member.has_private_chat = False
            else:
                await session.execute(
                    update(Department)
                    .where(Department.chat_id == row.chat_id)
                    .values(chat_lost=True)
                )
        log.warning("outbox %s: chat %s refuses messages: %s", row.id, row.chat_id, message)


def _markup(raw: dict[str, Any] | None) -> InlineKeyboardMarkup | ReplyKeyboardMarkup | None:
    if not raw:
        return None
    if "inline_keyboard" in raw:
        return InlineKeyboardMarkup.model_validate(raw)
    return ReplyKeyboardMarkup.model_validate(raw)
