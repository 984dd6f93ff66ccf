"""Queueing what the bot owes people, inside the caller's transaction."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.context import EstateContext
from storage.models import Department, Resident, Ticket
from storage.outbox_repo import enqueue_many, outbox_row

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


class AboutTicket(Protocol):
    """A ticket, or the columns of one a clock step read (only its id is stored)."""

    @property
    def id(self) -> int: ...


def markup_json(markup: Markup | None) -> dict[str, Any] | None:
    return None if markup is None else markup.model_dump(mode="json", exclude_none=True)


@dataclass
class OutboxRows:
    """The outbox rows for messages, built in one place: ``Outgoing`` queues each at once,
    the clock's set-based steps collect a batch and queue it with one INSERT."""

    ctx: EstateContext
    now: datetime
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_resident(
        self,
        resident: Resident,
        key: str,
        text: str,
        *,
        ticket: AboutTicket | None = None,
        markup: Markup | None = None,
        urgent: bool = False,
        photos: list[str] | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """A notice to a resident; held during quiet hours unless urgent."""
        if resident.telegram_id is None:
            return
        self.to_resident_chat(
            resident.telegram_id,
            resident.id,
            key,
            text,
            ticket=ticket,
            markup=markup,
            urgent=urgent,
            photos=photos,
            not_before=not_before,
        )

    def to_resident_chat(
        self,
        chat_id: int,
        resident_id: int,
        key: str,
        text: str,
        *,
        ticket: AboutTicket | None = None,
        markup: Markup | None = None,
        urgent: bool = False,
        photos: list[str] | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """``to_resident`` for a resident read as columns (announcements to thousands)."""
        if not urgent:
            not_before = self.ctx.quiet.release_at(not_before or self.now)
        payload: dict[str, Any] = {"text": text, "markup": markup_json(markup)}
        if photos:
            payload["photos"] = photos
        self.rows.append(
            outbox_row(
                key=key,
                chat_id=chat_id,
                op="send",
                payload=payload,
                now=self.now,
                not_before=not_before,
                estate_id=self.ctx.id,
                ticket_id=ticket.id if ticket is not None else None,
                resident_id=resident_id,
                urgent=urgent,
            )
        )

    def to_chat(
        self,
        chat_id: int,
        key: str,
        text: str,
        *,
        thread_id: int | None = None,
        ticket: AboutTicket | None = None,
        markup: Markup | None = None,
        reply_to_card: bool = False,
        photos: list[str] | None = None,
    ) -> None:
        """A message to a staff chat (a group, or a staff member's private chat)."""
        payload: dict[str, Any] = {"text": text, "markup": markup_json(markup)}
        if reply_to_card:
            payload["reply_to_card"] = True
        if photos:
            payload["photos"] = photos
        self.rows.append(
            outbox_row(
                key=key,
                chat_id=chat_id,
                thread_id=thread_id,
                op="send",
                payload=payload,
                now=self.now,
                estate_id=self.ctx.id,
                ticket_id=ticket.id if ticket is not None else None,
                urgent=True,
            )
        )

    def to_department(
        self,
        department: Department,
        key: str,
        text: str,
        *,
        ticket: AboutTicket | None = None,
        markup: Markup | None = None,
        reply_to_card: bool = False,
        photos: list[str] | None = None,
    ) -> None:
        if department.chat_id is None:
            return
        self.to_chat(
            department.chat_id,
            key,
            text,
            thread_id=department.thread_id,
            ticket=ticket,
            markup=markup,
            reply_to_card=reply_to_card,
            photos=photos,
        )

    def card(self, ticket: Ticket, text: str, markup: Markup | None) -> None:
        """Post the ticket's card, or edit it in place if it is already posted."""
        department = ticket.department
        if department.chat_id is None:
            return
        self.rows.append(
            outbox_row(
                key=f"card:{ticket.id}:v{ticket.version}",
                chat_id=department.chat_id,
                thread_id=department.thread_id,
                op="card",
                payload={"text": text, "markup": markup_json(markup)},
                now=self.now,
                estate_id=self.ctx.id,
                ticket_id=ticket.id,
                urgent=True,
            )
        )


@dataclass
class Outgoing:
    """One transaction's view of the outbox: each message is queued as it is asked for."""

    session: AsyncSession
    ctx: EstateContext
    now: datetime

    async def to_resident(
        self,
        resident: Resident,
        key: str,
        text: str,
        *,
        ticket: Ticket | None = None,
        markup: Markup | None = None,
        urgent: bool = False,
        photos: list[str] | None = None,
        not_before: datetime | None = None,
    ) -> None:
        """A notice to a resident; held during quiet hours unless urgent."""
        rows = self._rows()
        rows.to_resident(
            resident,
            key,
            text,
            ticket=ticket,
            markup=markup,
            urgent=urgent,
            photos=photos,
            not_before=not_before,
        )
        await enqueue_many(self.session, rows.rows)

    async def to_chat(
        self,
        chat_id: int,
        key: str,
        text: str,
        *,
        thread_id: int | None = None,
        ticket: Ticket | None = None,
        markup: Markup | None = None,
        reply_to_card: bool = False,
        photos: list[str] | None = None,
    ) -> None:
        """A message to a staff chat (a group, or a staff member's private chat)."""
        rows = self._rows()
        rows.to_chat(
            chat_id,
            key,
            text,
            thread_id=thread_id,
            ticket=ticket,
            markup=markup,
            reply_to_card=reply_to_card,
            photos=photos,
        )
        await enqueue_many(self.session, rows.rows)

    async def to_department(
        self,
        department: Department,
        key: str,
        text: str,
        *,
        ticket: Ticket | None = None,
        markup: Markup | None = None,
        reply_to_card: bool = False,
        photos: list[str] | None = None,
    ) -> None:
        rows = self._rows()
        rows.to_department(
            department,
            key,
            text,
            ticket=ticket,
            markup=markup,
            reply_to_card=reply_to_card,
            photos=photos,
        )
        await enqueue_many(self.session, rows.rows)

    async def card(self, ticket: Ticket, text: str, markup: Markup | None) -> None:
        """Post the ticket's card, or edit it in place if it is already posted."""
        rows = self._rows()
        rows.card(ticket, text, markup)
        await enqueue_many(self.session, rows.rows)

    def _rows(self) -> OutboxRows:
        return OutboxRows(self.ctx, self.now)
