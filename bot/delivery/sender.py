"""The outbox sender: delivers queued messages once, in order per chat, within Telegram's limits.

How it runs: a loop picks the rows that are due and hands each chat's rows to a worker of
that chat. A chat has at most one worker, so its rows go out one after another in order, while
chats run side by side under the pacer. A worker stops at the first row that must wait (a 429
for that chat, a 5xx or network error); other chats are not held up, and the chat's later rows
are not picked until the waiting row has gone. When nothing is due the loop sleeps until the
earliest retry is due, or until something new is queued (``kick``).

Once, not twice: each row is marked in its own short transaction right after Telegram answers,
together with what the answer means (the card's message id, the messages' links to their
ticket). A crash between sending and marking repeats at most that one message per chat. A row
with photos and text records its progress after the photos, so a retried text does not send the
photos again.

Errors with a meaning: 429 waits as long as Telegram asks, for that chat only; 5xx, network
and unexpected errors retry with exponential backoff and jitter, up to ``max_attempts``, then
the row is marked failed and logged; "message is not modified" is success; an edit of a card
whose message is gone posts the card again; a group upgraded to a supergroup is followed; HTML
Telegram refuses (or a text that is too long) is sent again as plain text and logged as the
formatting bug it is; 403 marks the chat unreachable.

Written at send time: a row the clock queued in SQL carries ``payload["render"]`` instead of a
text; ``render`` writes it just before each try, or says it is no longer owed (the row is
marked ``moot`` and nothing is sent).
"""

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
)
from aiogram.methods import EditMessageText, SendMediaGroup, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import (
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.delivery import queue
from bot.delivery.pacing import Gate, Pacer, backoff
from bot.domain.clock import Clock
from bot.ui.format import TEXT_LIMIT, clip_units, html_to_plain, split_text
from storage import outbox_repo
from storage.engine import engine_of
from storage.models import Department, Outbox, Resident, Staff, Ticket

log = logging.getLogger(__name__)
# Where a request's card is (two columns; loading the request would join five relationships).
CURRENT_CARD = select(Ticket.card_chat_id, Ticket.card_message_id).where(
    Ticket.id == bindparam("ticket_id")
)

BATCH = 200  # rows per read of the outbox
MAX_WORKERS = 2000  # chats in flight at once
LEASE = timedelta(minutes=2)  # how long claimed rows stay with this sender
RETRY_BASE = 0.5  # seconds before the first retry of a 5xx / network error (then doubling)
MAX_BACKOFF = 300.0
MARK_TRIES = 3  # a failed mark is tried again before the worker gives the chat a rest
COOLDOWN = 5.0  # seconds a chat rests after an unexpected error in its worker
HELD_RETRY = 30.0  # seconds before a row for a lost group is looked at again
CARD_LOST = ("message to edit not found", "message_id_invalid", "message can't be edited")

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup
ChatHook = Callable[[int], Awaitable[None]]
# (template, ticket id) -> the payload's text (and markup), or None when no longer owed
Renderer = Callable[[str, int], Awaitable[dict[str, Any] | None]]
T = TypeVar("T")


@dataclass
class Progress:
    """What one try of a row has achieved so far."""

    done: int  # parts of the row delivered (parts: the photos, then each text message)
    plain: bool  # sending without HTML (after Telegram refused ours)
    message_id: int | None = None  # the row's message (the card's, or the last one sent)
    new_card: bool = False  # message_id is a card posted just now
    sent: list[int] = field(default_factory=list)  # messages sent in this try


@dataclass
class Outcome:
    status: str  # sent, retry, failed
    progress: Progress
    error: str | None = None
    delay: float = 0.0
    bounded: bool = False  # counts towards max_attempts (5xx, network, unexpected)
    payload: dict[str, Any] | None = None  # the row's payload to store with a retry


class NoLongerOwed(Exception):
    """A message written at send time whose occasion has passed (the request moved on)."""


class OutboxSender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        pacer: Pacer,
        max_attempts: int = 8,
        *,
        max_idle: float = 1.0,
        rng: random.Random | None = None,
        on_blocked: ChatHook | None = None,
        on_group_lost: ChatHook | None = None,
        on_result: Callable[[str], None] | None = None,
        in_flight: int = 1,
        render: Renderer | None = None,
    ) -> None:
        """``on_blocked(chat_id)``: a resident blocked the bot (default: mark them unreachable);
        ``on_group_lost(chat_id)``: a department group removed the bot (default: mark the
        department's chat lost). Hooks let the services also refresh cards and alert managers.
        ``render(template, ticket_id)`` writes the rows the clock queued unwritten
        (``payload["render"]``) just before they are sent."""
        self.bot = bot
        self.sessions = sessions
        # Marking a row, the next retry, where a card is: Core statements on a connection, which
        # every message pays for (an ORM session's bookkeeping cost more than the statements).
        self.engine = engine_of(sessions)
        self.clock = clock
        self.pacer = pacer
        self.max_attempts = max(1, max_attempts)
        self.max_idle = max_idle
        self.rng = rng or random.Random()
        self.on_blocked = on_blocked
        self.on_group_lost = on_group_lost
        self.on_result = on_result
        self.render = render
        # At most this many rows are between "sent" and "marked" at any moment: a crash can
        # repeat no more than these. 1 keeps the guarantee at one message; more trade it for
        # throughput when Telegram's round trip is long.
        self._unmarked = Gate(in_flight)
        self._wake = asyncio.Event()
        self._stopping = False
        self._resting: dict[int, float] = {}  # chat -> pacer time its rest ends
        self._workers: dict[int, asyncio.Task[int]] = {}  # chat -> the worker delivering to it
        self._picking = asyncio.Lock()

    # ---- running ------------------------------------------------------------------------
    def kick(self) -> None:
        """Something was queued: look now rather than at the next wake-up."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self, max_rounds: int = 1000) -> int:
        """Deliver everything that is due now and return how many rows were handled. Rows that
        wait for a retry later stay pending (tests with a fake clock; the tail of a handler)."""
        return await self._run("due", max_rounds=max_rounds)

    async def run_until_idle(self) -> int:
        """Deliver until nothing is pending, sleeping until each retry is due (a real clock;
        bound it with ``asyncio.timeout``)."""
        return await self._run("empty")

    async def run_forever(self, idle: float | None = None) -> None:
        """Deliver until ``stop()``; sleeps until the earliest retry, a kick, or ``idle``."""
        if idle is not None:
            self.max_idle = idle
        await self._run("forever")

    async def run_once(self) -> int:
        """One read of the outbox: deliver what is due now (at most one batch)."""
        return await self._run("due", max_rounds=1)

    async def _run(self, mode: str, *, max_rounds: int | None = None) -> int:
        """The loop. ``mode``: "due" returns when nothing is due and no worker is busy, "empty"
        when nothing is pending at all, "forever" after ``stop()``. Loops may run side by side
        (``drain`` while ``run_forever`` runs): they share the workers, so a chat is never
        delivered to twice at once."""
        handled = 0
        rounds = 0
        crashed = True
        if mode == "forever" and self._single_process():
            async with self.sessions.begin() as session:
                await queue.release_leases(session, self.clock.now())
        try:
            while not (mode == "forever" and self._stopping):
                self._wake.clear()
                rounds += 1
                picking = max_rounds is None or rounds <= max_rounds
                try:
                    handled += await self._pick(picking)
                    if not self._workers and (
                        mode == "due"
                        or not picking
                        or (mode == "empty" and not await self._pending())
                    ):
                        break
                    pause = await self._pause()
                except Exception:
                    if mode != "forever":
                        raise
                    log.exception("outbox: reading the queue failed; trying again shortly")
                    pause = self.max_idle
                await self._sleep(pause)
            crashed = False
        finally:
            workers = dict(self._workers)
            if crashed:
                for task in workers.values():
                    task.cancel()
            results = await asyncio.gather(*workers.values(), return_exceptions=True)
            handled += sum(r for r in results if isinstance(r, int))
            for chat_id, task in workers.items():
                if self._workers.get(chat_id) is task:
                    del self._workers[chat_id]
        return handled

    async def _pick(self, start: bool) -> int:
        """Collect finished workers, then start one for every idle chat with due rows. Under a
        lock, and finished workers count as busy until collected here, so no read of the queue
        can be older than the work it hands out."""
        async with self._picking:
            handled = _reap(self._workers)
            while start and len(self._workers) < MAX_WORKERS:
                busy = set(self._workers) | self._resting_chats()
                async with self.sessions.begin() as session:
                    rows = await queue.claim_due(session, self.clock.now(), BATCH, busy, LEASE)
                for chat_id, chat_rows in _by_chat(rows).items():
                    task = asyncio.create_task(self._work(chat_id, chat_rows))
                    task.add_done_callback(lambda _task: self._wake.set())
                    self._workers[chat_id] = task
                if len(rows) < BATCH:
                    break
        return handled

    def _single_process(self) -> bool:
        """SQLite means one process: rows it claimed before a crash are its own to take back."""
        return self.engine.dialect.name == "sqlite"

    async def _pause(self) -> float:
        """Seconds until something may be due: the earliest retry, a chat's rest, or idle."""
        now = self.clock.now()
        async with self.engine.begin() as connection:
            due_at = await queue.next_retry_at(connection, now)
        pause = self.max_idle
        if due_at is not None:
            pause = min(pause, (due_at - now).total_seconds())
        if self._resting:
            pause = min(pause, min(self._resting.values()) - self.pacer.monotonic())
        return max(0.0, pause)

    async def _pending(self) -> int:
        async with self.sessions.begin() as session:
            return await queue.pending_count(session)

    async def _sleep(self, seconds: float) -> None:
        """Until a worker finishes, something is queued, or ``seconds`` pass."""
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    def _resting_chats(self) -> set[int]:
        now = self.pacer.monotonic()
        for chat_id in [c for c, until in self._resting.items() if until <= now]:
            del self._resting[chat_id]
        return set(self._resting)

    # ---- one chat -----------------------------------------------------------------------
    async def _work(self, chat_id: int, rows: Sequence[Outbox]) -> int:
        """Deliver one chat's rows in order; stop at the first that has to wait."""
        handled = 0
        try:
            for index, row in enumerate(rows):
                if self._stopping:
                    break
                await self.pacer.wait_for_chat(row.chat_id)
                async with self._unmarked.hold(row.id):  # bounds what a crash could send twice
                    outcome = _superseded(row, rows[index + 1 :]) or await self._attempt(row)
                    outcome = self._settle(row, outcome)
                    await self._mark(row, outcome)
                handled += 1
                if self.on_result is not None:
                    self.on_result(outcome.status)
                if outcome.status == "retry":
                    break
        except Exception:  # a bug or an outage: the chat rests, its rows stay pending
            log.exception("outbox: chat %s failed unexpectedly; resting %.0f s", chat_id, COOLDOWN)
            self._resting[chat_id] = self.pacer.monotonic() + COOLDOWN
        finally:
            await self._release([row.id for row in rows[handled:]])
        return handled

    async def _release(self, row_ids: list[int]) -> None:
        """Claimed rows this worker did not get to go back to the queue at once."""
        if not row_ids:
            return
        try:
            async with self.sessions.begin() as session:
                await session.execute(
                    update(Outbox)
                    .where(Outbox.id.in_(row_ids), Outbox.status == queue.SENDING)
                    .values(status=queue.PENDING, next_attempt_at=self.clock.now())
                )
        except Exception:  # their lease runs out on its own
            log.warning("outbox: could not release %s claimed rows", len(row_ids), exc_info=True)

    async def _attempt(self, row: Outbox, progress: Progress | None = None) -> Outcome:
        if progress is None:
            progress = Progress(int(row.payload.get("done", 0)), bool(row.payload.get("plain")))
        try:
            await self._deliver(row, progress)
            return Outcome("sent", progress)
        except NoLongerOwed:
            return Outcome("moot", progress, "no longer owed")
        except TelegramRetryAfter as error:
            self.pacer.defer(row.chat_id, error.retry_after)
            return Outcome(
                "retry", progress, f"429 retry after {error.retry_after}", float(error.retry_after)
            )
        except TelegramMigrateToChat as error:
            await self._migrate(row.chat_id, error.migrate_to_chat_id)
            return Outcome("retry", progress, f"moved to {error.migrate_to_chat_id}")
        except TelegramForbiddenError as error:
            if await self._forbidden(row, error.message):  # held until the group is back
                return Outcome("retry", progress, f"403 {error.message}", HELD_RETRY)
            return Outcome("failed", progress, f"403 {error.message}")
        except TelegramBadRequest as error:
            return await self._bad_request(row, progress, error)
        except TelegramEntityTooLarge as error:
            log.error("outbox %s: too large for Telegram: %s", row.id, error.message)
            return Outcome("failed", progress, f"413 {error.message}")
        except TelegramAPIError as error:  # 5xx, network, and anything else Telegram says
            return Outcome(
                "retry", progress, f"{type(error).__name__}: {error.message}", bounded=True
            )
        except Exception as error:
            log.exception("outbox %s: unexpected error while sending", row.id)
            return Outcome("retry", progress, f"{type(error).__name__}: {error}", bounded=True)

    async def _bad_request(
        self, row: Outbox, progress: Progress, error: TelegramBadRequest
    ) -> Outcome:
        reason = error.message.lower()
        if "message is not modified" in reason:
            return Outcome("sent", progress)
        fixable = "can't parse entities" in reason or "too long" in reason
        if fixable and not progress.plain:
            log.error(
                "outbox %s to chat %s: Telegram refused our text (a formatting bug), sending it "
                "as plain text: %s",
                row.id,
                row.chat_id,
                error.message,
            )
            progress.plain = True
            return await self._attempt(row, progress)
        log.error("outbox %s to chat %s: given up: %s", row.id, row.chat_id, error.message)
        return Outcome("failed", progress, f"400 {error.message}")

    def _settle(self, row: Outbox, outcome: Outcome) -> Outcome:
        """Schedule a retry (with backoff for bounded errors) or give up."""
        if outcome.status != "retry" and outcome.status != "failed":
            return outcome
        payload = {**row.payload, "done": outcome.progress.done, "plain": outcome.progress.plain}
        if outcome.bounded:
            failures = int(row.payload.get("failures", 0)) + 1
            payload["failures"] = failures
            if failures >= self.max_attempts:
                log.error(
                    "outbox %s to chat %s given up after %s attempts: %s",
                    row.id,
                    row.chat_id,
                    failures,
                    outcome.error,
                )
                outcome.status = "failed"
            else:
                jitter = 0.5 + self.rng.random() / 2
                outcome.delay = backoff(failures - 1, RETRY_BASE, MAX_BACKOFF, jitter)
        outcome.payload = payload
        return outcome

    async def _mark(self, row: Outbox, outcome: Outcome) -> None:
        """Record the outcome; a failing database is tried again before giving the chat a rest
        (an unmarked row that was sent would be sent again)."""
        for attempt in range(MARK_TRIES):
            try:
                await self._record(row, outcome)
                return
            except Exception:
                if attempt + 1 == MARK_TRIES:
                    raise
                log.warning("outbox %s: marking failed, trying again", row.id, exc_info=True)
                await asyncio.sleep(0.2 * (attempt + 1))

    async def _record(self, row: Outbox, outcome: Outcome) -> None:
        """One transaction: the row's new state and what the answer means for its ticket."""
        now = self.clock.now()
        values: dict[str, Any] = {"attempts": Outbox.attempts + 1, "last_error": outcome.error}
        if outcome.status == "sent":
            values.update(status="sent", sent_at=now, message_id=outcome.progress.message_id)
        elif outcome.status == "moot":
            values["status"] = "moot"
        elif outcome.status == "retry":
            values["status"] = queue.PENDING
            values["next_attempt_at"] = now + timedelta(seconds=outcome.delay)
        else:
            values["status"] = "failed"
        if outcome.payload is not None:
            values["payload"] = outcome.payload
        async with self.engine.begin() as connection:
            await connection.execute(update(Outbox).where(Outbox.id == row.id).values(**values))
            await self._remember_messages(connection, row, outcome.progress)

    async def _remember_messages(
        self, connection: AsyncConnection, row: Outbox, progress: Progress
    ) -> None:
        if row.ticket_id is None:
            return
        if progress.new_card and progress.message_id is not None:
            await connection.execute(
                update(Ticket)
                .where(Ticket.id == row.ticket_id)
                .values(
                    card_chat_id=row.chat_id,
                    card_message_id=progress.message_id,
                    card_thread_id=row.thread_id,
                )
            )
        for message_id in progress.sent:
            await outbox_repo.link_message(connection, row.chat_id, message_id, row.ticket_id)

    # ---- the Bot API calls --------------------------------------------------------------
    async def _deliver(self, row: Outbox, progress: Progress) -> None:
        data = await self._written(row)
        markup = _markup(data.get("markup"))
        if row.op == "card":
            await self._card(row, data, progress, markup)
            return
        reply_to = await self._reply_target(row, data)
        photos: list[str] = list(data.get("photos") or [])
        texts = self._texts(str(data.get("text") or ""), progress.plain)
        parts: list[list[str] | str] = ([photos] if photos else []) + list(texts)
        for index, part in enumerate(parts):
            if index < progress.done:
                continue
            last = index == len(parts) - 1
            if isinstance(part, list):
                sent = await self._photos(row, part, reply_to)
            else:
                sent = [
                    await self._text(row, part, progress.plain, markup if last else None, reply_to)
                ]
            progress.done = index + 1
            progress.sent.extend(m.message_id for m in sent)
            progress.message_id = sent[-1].message_id

    async def _written(self, row: Outbox) -> dict[str, Any]:
        """The row's payload, with the text written now if the clock left it to the send."""
        template = row.payload.get("render")
        if template is None:
            return row.payload
        if self.render is None or row.ticket_id is None:
            raise RuntimeError(f"outbox {row.id}: nothing to write its {template!r} message")
        written = await self.render(str(template), row.ticket_id)
        if written is None:
            raise NoLongerOwed
        return {**row.payload, **written}

    @staticmethod
    def _texts(text: str, plain: bool) -> list[str]:
        if not text:
            return []
        return split_text(html_to_plain(text), TEXT_LIMIT) if plain else [text]

    async def _call(self, row: Outbox, method: TelegramMethod[T]) -> T:
        """One Bot API call, paced (older rows first); an error answer gives its places back."""
        async with self.pacer.slot(row.chat_id, priority=row.id) as slot:
            try:
                return await self.bot(method)
            except TelegramNetworkError:
                raise  # unknown whether it reached Telegram
            except TelegramAPIError:
                slot.refund()
                raise

    async def _text(
        self, row: Outbox, text: str, plain: bool, markup: Markup | None, reply_to: int | None
    ) -> Message:
        return await self._call(
            row,
            SendMessage(
                chat_id=row.chat_id,
                text=text,
                parse_mode=None if plain else "HTML",
                reply_markup=markup,
                message_thread_id=row.thread_id,
                reply_parameters=_reply(reply_to),
            ),
        )

    async def _photos(self, row: Outbox, photos: list[str], reply_to: int | None) -> list[Message]:
        if len(photos) == 1:
            single = SendPhoto(
                chat_id=row.chat_id,
                photo=photos[0],
                message_thread_id=row.thread_id,
                reply_parameters=_reply(reply_to),
            )
            return [await self._call(row, single)]
        album = SendMediaGroup(
            chat_id=row.chat_id,
            media=[InputMediaPhoto(media=file_id) for file_id in photos[:10]],
            message_thread_id=row.thread_id,
            reply_parameters=_reply(reply_to),
        )
        sent: list[Message] = await self._call(row, album)
        return sent

    async def _card(
        self, row: Outbox, data: dict[str, Any], progress: Progress, markup: Markup | None
    ) -> None:
        """Edit the ticket's card in place, or post it when it is not there (any more)."""
        text = str(data["text"])
        if progress.plain:
            text = clip_units(html_to_plain(text), TEXT_LIMIT)
        parse_mode = None if progress.plain else "HTML"
        inline = markup if isinstance(markup, InlineKeyboardMarkup) else None
        card_chat, card_id = await self._current_card(row)
        if card_id is not None and card_chat == row.chat_id:
            progress.message_id = card_id
            try:
                await self._call(
                    row,
                    EditMessageText(
                        text=text,
                        chat_id=row.chat_id,
                        message_id=card_id,
                        parse_mode=parse_mode,
                        reply_markup=inline,
                    ),
                )
                return
            except TelegramBadRequest as error:
                reason = error.message.lower()
                if "message is not modified" in reason:
                    return
                if not any(lost in reason for lost in CARD_LOST):
                    raise
                log.info(
                    "outbox %s: card %s is gone (%s); posting it again", row.id, card_id, reason
                )
        message = await self._call(
            row,
            SendMessage(
                chat_id=row.chat_id,
                text=text,
                parse_mode=parse_mode,
                reply_markup=inline,
                message_thread_id=row.thread_id,
            ),
        )
        progress.message_id = message.message_id
        progress.new_card = True
        progress.sent.append(message.message_id)

    async def _current_card(self, row: Outbox) -> tuple[int | None, int | None]:
        if row.ticket_id is None:
            return None, None
        async with self.engine.begin() as connection:
            found = (await connection.execute(CURRENT_CARD, {"ticket_id": row.ticket_id})).first()
            return (found[0], found[1]) if found is not None else (None, None)

    async def _reply_target(self, row: Outbox, data: dict[str, Any]) -> int | None:
        if data.get("reply_to_card") and row.ticket_id is not None:
            card_chat, card_id = await self._current_card(row)
            return card_id if card_chat == row.chat_id else None
        value = data.get("reply_to")
        return int(value) if value else None

    # ---- errors with a meaning ----------------------------------------------------------
    async def _migrate(self, old_chat: int, new_chat: int) -> None:
        log.info("chat %s was upgraded to %s; following it", old_chat, new_chat)
        async with self.sessions.begin() as session:
            await session.execute(
                update(Department).where(Department.chat_id == old_chat).values(chat_id=new_chat)
            )
            await session.execute(
                update(Outbox)
                .where(
                    Outbox.chat_id == old_chat, Outbox.status.in_((queue.PENDING, queue.SENDING))
                )
                .values(chat_id=new_chat)
            )
            await session.execute(
                update(Ticket).where(Ticket.card_chat_id == old_chat).values(card_message_id=None)
            )

    async def _forbidden(self, row: Outbox, message: str) -> bool:
        """403: a resident who blocked the bot is unreachable; a staff member has no private
        chat; a department group that lost the bot holds its rows (True) until it is back."""
        log.warning("outbox %s: chat %s refuses messages: %s", row.id, row.chat_id, message)
        if row.chat_id < 0:
            return await self._group_lost(row.chat_id)
        async with self.sessions.begin() as session:
            await session.execute(
                update(Staff).where(Staff.telegram_id == row.chat_id).values(has_private_chat=False)
            )
        if not any(word in message.lower() for word in ("blocked", "deactivated")):
            return False
        if self.on_blocked is not None:
            await self.on_blocked(row.chat_id)
            return False
        async with self.sessions.begin() as session:
            await session.execute(
                update(Resident).where(Resident.telegram_id == row.chat_id).values(unreachable=True)
            )
        return False

    async def _group_lost(self, chat_id: int) -> bool:
        async with self.sessions.begin() as session:
            department = await session.scalar(
                select(Department.id).where(Department.chat_id == chat_id).limit(1)
            )
        if department is None:
            return False
        if self.on_group_lost is not None:
            await self.on_group_lost(chat_id)
        else:
            async with self.sessions.begin() as session:
                await session.execute(
                    update(Department).where(Department.chat_id == chat_id).values(chat_lost=True)
                )
        return True


def _superseded(row: Outbox, later: Sequence[Outbox]) -> Outcome | None:
    """A card edit that a later edit of the same card (next about that ticket) replaces."""
    if row.op != "card" or row.ticket_id is None:
        return None
    following = next((other for other in later if other.ticket_id == row.ticket_id), None)
    if following is None or following.op != "card":
        return None
    return Outcome(
        "sent", Progress(done=0, plain=False), error=f"superseded by outbox {following.id}"
    )


def _by_chat(rows: Sequence[Outbox]) -> dict[int, list[Outbox]]:
    chats: dict[int, list[Outbox]] = defaultdict(list)
    for row in rows:
        chats[row.chat_id].append(row)
    return chats


def _reap(workers: dict[int, "asyncio.Task[int]"]) -> int:
    """Collect finished workers; a worker that died of a BaseException takes the loop down."""
    handled = 0
    for chat_id in [c for c, task in workers.items() if task.done()]:
        task = workers.pop(chat_id)
        if task.cancelled():
            continue
        error = task.exception()
        if error is not None:
            raise error
        handled += task.result()
    return handled


def _reply(message_id: int | None) -> ReplyParameters | None:
    if message_id is None:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


def _markup(raw: dict[str, Any] | None) -> Markup | None:
    if not raw:
        return None
    if "inline_keyboard" in raw:
        return InlineKeyboardMarkup.model_validate(raw)
    return ReplyKeyboardMarkup.model_validate(raw)
