"""Use cases on tickets: filing, every lifecycle event, relays. The only writers of ticket state."""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.calendar import local_instant
from bot.domain.deadlines import compute_deadlines
from bot.domain.kinds import Place, TicketKind, format_number
from bot.domain.lifecycle import (
    AWAITING_CONFIRMATION,
    Actor,
    Event,
    Status,
    TransitionError,
    allowed_events,
    check_transition,
)
from bot.domain.permissions import Role, StaffView, resident_actors, staff_actors
from bot.domain.spans import Span
from bot.i18n import Gettext
from bot.services import feedback
from bot.services.base import Service
from bot.services.context import estate_context
from bot.services.notify import Outgoing
from bot.ui import clock_texts, keyboards, texts
from bot.ui.format import clip, h
from bot.ui.labels import span_label
from storage import repo
from storage.models import (
    Category,
    Department,
    Staff,
    StaffDepartment,
    Ticket,
    TicketEvent,
    TicketPhoto,
    step_seconds,
)
from storage.outbox_repo import ticket_for_message

log = logging.getLogger(__name__)

PAGE_SIZE = 8
DATE_AT_END = re.compile(r"(\d{4}-\d{2}-\d{2})\s*$")


@dataclass
class Draft:
    kind: TicketKind
    description: str
    category_id: int | None = None
    place: Place = Place.FLAT
    place_text: str | None = None
    emergency: bool = False
    photos: list[str] = field(default_factory=list)


@dataclass
class Filed:
    ok: bool
    ticket_id: int | None = None
    number: str | None = None
    reason: str | None = None


@dataclass
class ActResult:
    ok: bool
    reason: str | None = None
    number: str | None = None
    holder: str | None = None
    ticket_id: int | None = None


@dataclass
class ResidentPage:
    entries: list[tuple[int, str]]
    page: int
    pages: int
    total: int


@dataclass
class CategoryOption:
    id: int
    label: str
    hazard: str | None


@dataclass
class ResidentTicketView:
    text: str
    ticket_id: int
    can_comment: bool
    can_cancel: bool


EVENT_NOTIFIES_RESIDENT = {
    Event.CLAIM,
    Event.ASSIGN,
    Event.ACKNOWLEDGE,
    Event.ON_MY_WAY,
    Event.START_WORK,
    Event.HOLD,
    Event.DONE,
    Event.ANSWER,
    Event.REJECT,
    Event.CANCEL,
    Event.CONFIRM,
    Event.REOPEN,
    Event.REOPEN_TO_QUEUE,
    Event.AUTO_CLOSE,
    Event.CLOSE,
    Event.RESUME,
}
RESIDENT_OWN_EVENTS = {Event.CANCEL, Event.CONFIRM, Event.REOPEN, Event.REOPEN_TO_QUEUE}


class TicketService(Service):
    # ---- filing -------------------------------------------------------------------------
    async def file(self, telegram_id: int, draft: Draft) -> Filed:
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            if resident is None or resident.status != "verified" or resident.flat is None:
                return Filed(False, reason="not_verified")
            out = await self.outgoing(session, resident.estate_id)
            if await repo.open_ticket_count(session, resident.id) >= out.ctx.max_open_requests:
                return Filed(False, reason="too_many_open")
            category = await self._category(session, resident.estate_id, draft)
            if draft.kind.is_repair and category is None:
                return Filed(False, reason="bad_category")
            department_id = (
                category.department_id if category is not None else out.ctx.customer_service_id
            )
            if department_id is None:
                return Filed(False, reason="no_department")
            emergency = draft.emergency or bool(category is not None and category.emergency)
            emergency = emergency and draft.kind.is_repair
            seq = await repo.next_ticket_seq(session, resident.estate_id, draft.kind.value)
            now = out.now
            deadlines = compute_deadlines(
                now, out.ctx.standard_for(draft.kind, emergency, category), out.ctx.calendar
            )
            photos = draft.photos[: texts.MAX_PHOTOS]
            ticket = Ticket(
                estate_id=resident.estate_id,
                kind=draft.kind.value,
                seq=seq,
                number=format_number(draft.kind, seq),
                category_id=category.id if category is not None else None,
                department_id=department_id,
                resident_id=resident.id,
                flat_id=resident.flat_id,
                building_id=resident.flat.building_id,
                place=draft.place.value,
                place_text=clip(draft.place_text, 300) if draft.place_text else None,
                description=draft.description[: texts.DESCRIPTION_LIMIT],
                emergency=emergency,
                status=Status.NEW.value,
                version=1,
                created_at=now,
                claim_remind_at=deadlines.claim_remind_at,
                claim_due_at=deadlines.claim_due,
                on_site_due_at=deadlines.on_site_due,
                resolve_due_at=deadlines.resolve_due,
                photo_count=len(photos),
            )
            session.add(ticket)
            await session.flush()
            for file_id in photos:
                session.add(TicketPhoto(ticket_id=ticket.id, file_id=file_id, created_at=now))
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=now,
                    event="registered",
                    actor_kind="resident",
                    actor_id=resident.id,
                    to_status=Status.NEW.value,
                )
            )
            await session.flush()
            await session.refresh(ticket)
            await self._queue_card(out, ticket)
            if photos:
                await out.to_department(
                    ticket.department,
                    f"photos:{ticket.id}:report",
                    "",
                    ticket=ticket,
                    reply_to_card=True,
                    photos=photos,
                )
            _ = self.tr(resident.language)
            standard = out.ctx.standard_for(draft.kind, emergency, category)
            await out.to_resident(
                resident,
                f"filed:{ticket.id}",
                texts.confirmation(_, ticket, self._next_step(_, ticket.kind, standard.claim)),
                ticket=ticket,
                urgent=True,
            )
            return Filed(True, ticket_id=ticket.id, number=ticket.number)

    async def add_details(
        self, telegram_id: int, ticket_id: int, description: str, photos: Sequence[str]
    ) -> bool:
        """Details a resident adds to an emergency request that was registered at once."""
        async with self.transaction() as session:
            ticket = await session.get(Ticket, ticket_id)
            resident = await repo.resident_by_telegram(session, telegram_id)
            if ticket is None or resident is None or ticket.resident_id != resident.id:
                return False
            out = await self.outgoing(session, ticket.estate_id)
            if description:
                ticket.description = description[: texts.DESCRIPTION_LIMIT]
            room = max(0, texts.MAX_PHOTOS - ticket.photo_count)
            kept = list(photos)[:room]
            for file_id in kept:
                session.add(TicketPhoto(ticket_id=ticket.id, file_id=file_id, created_at=out.now))
            ticket.photo_count += len(kept)
            ticket.version += 1
            await session.flush()
            await self._queue_card(out, ticket)
            if kept:
                await out.to_department(
                    ticket.department,
                    f"photos:{ticket.id}:v{ticket.version}",
                    "",
                    ticket=ticket,
                    reply_to_card=True,
                    photos=kept,
                )
            return True

    # ---- lifecycle events ---------------------------------------------------------------
    async def can(self, telegram_id: int, ticket_id: int, event: Event) -> ActResult:
        """Would this person be allowed to trigger the event now? (Before asking them for a note.)"""
        async with self.transaction() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                return ActResult(False, "not_found")
            actors = await self._actors(session, ticket, telegram_id)
            try:
                check_transition(TicketKind(ticket.kind), Status(ticket.status), event, actors)
            except TransitionError as error:
                return self._refusal(ticket, event, error.reason)
            return ActResult(True, number=ticket.number, ticket_id=ticket.id)

    async def act(
        self,
        telegram_id: int | None,
        ticket_id: int,
        event: Event,
        *,
        note: str | None = None,
        photos: Sequence[str] = (),
        hold_until: datetime | None = None,
        assignee_id: int | None = None,
    ) -> ActResult:
        """Apply one lifecycle event; ``telegram_id`` None means the clock (system)."""
        async with self.transaction() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                return ActResult(False, "not_found")
            if telegram_id is None:
                actors = frozenset({Actor.SYSTEM})
            else:
                actors = await self._actors(session, ticket, telegram_id)
            kind, status = TicketKind(ticket.kind), Status(ticket.status)
            if event is Event.REOPEN and not await self._assignee_active(session, ticket):
                event = Event.REOPEN_TO_QUEUE
            try:
                to = check_transition(kind, status, event, actors)
            except TransitionError as error:
                return self._refusal(ticket, event, error.reason)
            out = await self.outgoing(session, ticket.estate_id)
            if event is Event.HOLD and hold_until is None and note:
                hold_until = resume_date(note, out.ctx.tz)
            actor = await self._actor_record(session, ticket, telegram_id)
            values = self._changes(ticket, event, to, out.now, actor, note, hold_until, assignee_id)
            values.update(step_seconds(ticket.created_at, values))
            updated = await session.execute(
                update(Ticket)
                .where(Ticket.id == ticket.id, Ticket.version == ticket.version)
                .values(status=to.value, version=ticket.version + 1, **values)
                .execution_options(synchronize_session=False)
            )
            if updated.rowcount != 1:  # type: ignore[attr-defined]
                await session.refresh(ticket)
                return self._refusal(ticket, event, "conflict")
            await session.refresh(ticket)
            if photos:
                for file_id in photos:
                    session.add(
                        TicketPhoto(
                            ticket_id=ticket.id, file_id=file_id, stage="after", created_at=out.now
                        )
                    )
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=out.now,
                    event=event.value,
                    actor_kind=actor[0],
                    actor_id=actor[1],
                    actor_name=actor[2],
                    from_status=status.value,
                    to_status=to.value,
                    note=note,
                )
            )
            await session.flush()
            await self._after_event(session, out, ticket, event, actor, note, list(photos))
            return ActResult(True, number=ticket.number, ticket_id=ticket.id)

    # ---- relays -------------------------------------------------------------------------
    async def ticket_for_reply(self, chat_id: int, message_id: int) -> int | None:
        async with self.transaction() as session:
            return await ticket_for_message(session, chat_id, message_id)

    async def comment_from_resident(
        self, telegram_id: int, ticket_id: int, text: str, photos: Sequence[str] = ()
    ) -> ActResult:
        async with self.transaction() as session:
            ticket = await session.get(Ticket, ticket_id)
            resident = await repo.resident_by_telegram(session, telegram_id)
            if ticket is None or resident is None or ticket.resident_id != resident.id:
                return ActResult(False, "not_found")
            if not Status(ticket.status).is_open:
                return ActResult(False, "closed", number=ticket.number)
            out = await self.outgoing(session, ticket.estate_id)
            ticket.message_count += 1
            ticket.version += 1
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=out.now,
                    event="comment",
                    actor_kind="resident",
                    actor_id=resident.id,
                    note=text or None,
                )
            )
            await session.flush()
            _ = self.tr(out.ctx.language)
            body = texts.relay_to_group(_, ticket.number, text) if text else ""
            await out.to_department(
                ticket.department,
                f"relay:{ticket.id}:v{ticket.version}",
                body,
                ticket=ticket,
                reply_to_card=True,
                photos=list(photos) or None,
            )
            await self._queue_card(out, ticket)
            return ActResult(True, number=ticket.number, ticket_id=ticket.id)

    async def reply_from_staff(
        self, telegram_id: int, chat_id: int, reply_to_message_id: int, text: str
    ) -> ActResult:
        """A reply to a card (or to a relayed message) in a department group."""
        async with self.transaction() as session:
            ticket_id = await ticket_for_message(session, chat_id, reply_to_message_id)
            if ticket_id is None:
                return ActResult(False, "not_a_ticket")
            ticket = await session.get(Ticket, ticket_id)
            assert ticket is not None
            staff = await repo.staff_by_telegram(session, telegram_id, ticket.estate_id)
            if not staff_actors(self._view(staff), ticket.department_id, ticket.assignee_id):
                return ActResult(False, "not_staff")
            assert staff is not None
            out = await self.outgoing(session, ticket.estate_id)
            internal = text.startswith("!")
            body = text[1:].strip() if internal else text
            session.add(
                TicketEvent(
                    ticket_id=ticket.id,
                    at=out.now,
                    event="note" if internal else "staff_message",
                    actor_kind="staff",
                    actor_id=staff.id,
                    actor_name=staff.name,
                    note=body,
                )
            )
            if internal:
                return ActResult(True, "internal", number=ticket.number, ticket_id=ticket.id)
            if not Status(ticket.status).is_open:
                return ActResult(False, "closed", number=ticket.number)
            ticket.message_count += 1
            ticket.version += 1
            await session.flush()
            resident = ticket.resident
            if resident is not None:
                _ = self.tr(resident.language)
                await out.to_resident(
                    resident,
                    f"staffmsg:{ticket.id}:v{ticket.version}",
                    texts.relay_to_resident(_, ticket.number, staff.name, body),
                    ticket=ticket,
                    urgent=ticket.emergency,
                )
            await self._queue_card(out, ticket)
            return ActResult(True, number=ticket.number, ticket_id=ticket.id)

    # ---- what residents read ------------------------------------------------------------
    async def resident_page(self, telegram_id: int, page: int, locale: str) -> ResidentPage | None:
        async with self.statements() as connection:  # columns only: no session needed
            resident = await repo.resident_ids(connection, telegram_id)
            if resident is None:
                return None
            resident_id, estate_id = resident
            rows, total = await repo.resident_tickets_page(
                connection, resident_id, max(page, 0), PAGE_SIZE
            )
            ctx = await estate_context(connection, estate_id)
            assert ctx is not None
            _ = self.tr(locale)
            pages = max(1, -(-total // PAGE_SIZE))
            entries = [(t.id, texts.ticket_list_line(_, t, ctx.tz)) for t in rows]
            return ResidentPage(entries, min(max(page, 0), pages - 1), pages, total)

    async def resident_view(
        self, telegram_id: int, ticket_id: int, locale: str
    ) -> ResidentTicketView | None:
        async with self.transaction() as session:
            ticket = await session.scalar(repo.TICKET_DETAILS, {"ticket_id": ticket_id})
            resident = await repo.resident_ids(session, telegram_id)
            if ticket is None or resident is None:
                return None
            resident_id, _estate_id = resident
            if ticket.resident_id != resident_id:
                return None
            out = await self.outgoing(session, ticket.estate_id)
            events = await repo.ticket_events(session, ticket.id)
            visible = [e for e in events if e.event != "note"]
            _ = self.tr(locale)
            actors = frozenset({Actor.RESIDENT})
            allowed = allowed_events(TicketKind(ticket.kind), Status(ticket.status), actors)
            return ResidentTicketView(
                text=texts.ticket_details(_, ticket, locale, out.ctx.tz, visible[-25:]),
                ticket_id=ticket.id,
                can_comment=Status(ticket.status).is_open,
                can_cancel=Event.CANCEL in allowed,
            )

    async def categories_for(
        self, telegram_id: int, kind: TicketKind, locale: str
    ) -> list["CategoryOption"]:
        async with self.transaction() as session:
            resident = await repo.resident_ids(session, telegram_id)
            if resident is None:
                return []
            _resident_id, estate_id = resident
            rows = await repo.categories(session, estate_id, kind.value)
            return [
                CategoryOption(
                    c.id, texts.category_button(c, locale), c.hazard if c.emergency else None
                )
                for c in rows
            ]

    async def assign_options(
        self, telegram_id: int, ticket_id: int
    ) -> list[tuple[int, str]] | None:
        """Active staff of the ticket's department, if this person may assign it (else None)."""
        async with self.transaction() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None:
                return None
            actors = await self._actors(session, ticket, telegram_id)
            if not actors & {Actor.DISPATCHER, Actor.MANAGER}:
                return None
            rows = (
                await session.scalars(
                    select(Staff)
                    .join(StaffDepartment, StaffDepartment.staff_id == Staff.id)
                    .where(
                        StaffDepartment.department_id == ticket.department_id,
                        Staff.active.is_(True),
                    )
                    .order_by(Staff.name)
                )
            ).all()
            return [(staff.id, staff.name) for staff in rows]

    async def emergency_number(self, telegram_id: int, hazard: str) -> str | None:
        async with self.transaction() as session:
            resident = await repo.resident_ids(session, telegram_id)
            if resident is None:
                return None
            _resident_id, estate_id = resident
            out = await self.outgoing(session, estate_id)
            return out.ctx.emergency_numbers.get(hazard)

    # ---- internals ----------------------------------------------------------------------
    @staticmethod
    def _next_step(_: Gettext, kind: str, claim: Span | None) -> str:
        if claim is None:
            return _("The team will look at it soon.")
        if kind == TicketKind.REPAIR:
            return _("A technician will claim it within {time}.").format(time=span_label(_, claim))
        return _("We will acknowledge it within {time}.").format(time=span_label(_, claim))

    async def _category(
        self, session: AsyncSession, estate_id: int, draft: Draft
    ) -> Category | None:
        if draft.category_id is None:
            return None
        category = await session.get(Category, draft.category_id)
        if category is None or category.estate_id != estate_id or not category.active:
            return None
        if category.kind != draft.kind.value:
            return None
        return category

    @staticmethod
    def _view(staff: Staff | None) -> StaffView | None:
        if staff is None:
            return None
        return StaffView(
            staff_id=staff.id,
            role=Role(staff.role),
            department_ids=frozenset(d.id for d in staff.departments),
            active=staff.active,
        )

    async def _actors(
        self, session: AsyncSession, ticket: Ticket, telegram_id: int
    ) -> frozenset[Actor]:
        staff = await repo.staff_by_telegram(session, telegram_id, ticket.estate_id)
        actors = set(staff_actors(self._view(staff), ticket.department_id, ticket.assignee_id))
        resident = await repo.resident_by_telegram(session, telegram_id)
        actors |= resident_actors(resident.id if resident else None, ticket.resident_id)
        return frozenset(actors)

    async def _actor_record(
        self, session: AsyncSession, ticket: Ticket, telegram_id: int | None
    ) -> tuple[str, int | None, str | None]:
        if telegram_id is None:
            return "system", None, None
        staff = await repo.staff_by_telegram(session, telegram_id, ticket.estate_id)
        if staff is not None:
            return "staff", staff.id, staff.name
        resident = await repo.resident_by_telegram(session, telegram_id)
        return "resident", resident.id if resident else None, None

    async def _assignee_active(self, session: AsyncSession, ticket: Ticket) -> bool:
        if ticket.assignee_id is None:
            return False
        staff = await session.get(Staff, ticket.assignee_id)
        return staff is not None and staff.active

    @staticmethod
    def _refusal(ticket: Ticket, event: Event, reason: str) -> ActResult:
        holder = ticket.assignee.name if ticket.assignee is not None else None
        if event in (Event.CLAIM, Event.ACKNOWLEDGE) and ticket.assignee_id is not None:
            reason = "taken"
        return ActResult(False, reason, number=ticket.number, holder=holder, ticket_id=ticket.id)

    @staticmethod
    def _changes(
        ticket: Ticket,
        event: Event,
        to: Status,
        now: datetime,
        actor: tuple[str, int | None, str | None],
        note: str | None,
        hold_until: datetime | None,
        assignee_id: int | None,
    ) -> dict[str, Any]:
        staff_id = actor[1] if actor[0] == "staff" else None
        values: dict[str, Any] = {}
        if event in (Event.CLAIM, Event.ACKNOWLEDGE):
            values.update(assignee_id=staff_id, claimed_at=ticket.claimed_at or now)
        elif event is Event.ASSIGN:
            values.update(assignee_id=assignee_id, claimed_at=ticket.claimed_at or now)
        elif event is Event.ON_MY_WAY:
            values.update(on_site_at=ticket.on_site_at or now)
        elif event is Event.START_WORK:
            values.update(
                started_at=ticket.started_at or now,
                on_site_at=ticket.on_site_at or now,
                hold_until=None,
            )
        elif event is Event.HOLD:
            values.update(hold_reason=note, hold_until=hold_until)
        elif event is Event.RESUME:
            values.update(hold_until=None)
        elif event is Event.DONE:
            values.update(resolved_at=now, resolution_note=note)
        elif event is Event.ANSWER:
            values.update(resolved_at=now, answer_text=note, claimed_at=ticket.claimed_at or now)
            if ticket.assignee_id is None:
                values.update(assignee_id=staff_id)
        elif event is Event.RELEASE:
            values.update(assignee_id=None)
        elif event is Event.REJECT:
            values.update(reject_reason=note, closed_at=now)
        elif event in (Event.CANCEL, Event.CONFIRM, Event.AUTO_CLOSE, Event.CLOSE):
            values.update(closed_at=now)
        elif event is Event.REOPEN:
            values.update(resolved_at=None)
        elif event is Event.REOPEN_TO_QUEUE:
            values.update(assignee_id=None, resolved_at=None, closed_at=None)
        return values

    async def _after_event(
        self,
        session: AsyncSession,
        out: Outgoing,
        ticket: Ticket,
        event: Event,
        actor: tuple[str, int | None, str | None],
        note: str | None,
        photos: list[str],
    ) -> None:
        actor_name = actor[2] or ""
        await self._queue_card(out, ticket)
        await self._feedback(session, out, ticket, event, actor[0], note)
        resident = ticket.resident
        if resident is not None and event in EVENT_NOTIFIES_RESIDENT:
            _ = self.tr(resident.language)
            markup = None
            if Status(ticket.status) in AWAITING_CONFIRMATION:
                markup = keyboards.confirm_fix(_, ticket.id, ticket.kind)
            urgent = ticket.emergency or event in RESIDENT_OWN_EVENTS
            await out.to_resident(
                resident,
                f"notice:{ticket.id}:v{ticket.version}",
                texts.ticket_notice(_, event.value, ticket, actor_name, note),
                ticket=ticket,
                markup=markup,
                urgent=urgent,
                photos=photos or None,
            )
        if event in (Event.CLAIM, Event.ASSIGN) and ticket.assignee is not None:
            await self._brief_claimant(session, out, ticket, ticket.assignee)
        if event in (Event.REOPEN, Event.REOPEN_TO_QUEUE) and note:
            _ = self.tr(out.ctx.language)
            await out.to_department(
                ticket.department,
                f"reopen:{ticket.id}:v{ticket.version}",
                texts.relay_to_group(_, ticket.number, note),
                ticket=ticket,
                reply_to_card=True,
            )

    async def _feedback(
        self,
        session: AsyncSession,
        out: Outgoing,
        ticket: Ticket,
        event: Event,
        actor_kind: str,
        note: str | None,
    ) -> None:
        """The clock's records: 48-hour callbacks, polls, and alerts when a fix did not hold."""
        kind = TicketKind(ticket.kind)
        if event is Event.DONE and kind.is_repair:
            due = out.now + out.ctx.clock["callback_due"].delta
            await feedback.owe_callback(session, ticket, "after_repair", due, out.now)
        if event in (Event.CONFIRM, Event.AUTO_CLOSE) and kind in (
            TicketKind.REPAIR,
            TicketKind.COMPLAINT,
        ):
            await feedback.open_poll(session, out, ticket, self)
        if event in (Event.REOPEN, Event.REOPEN_TO_QUEUE) and actor_kind == "resident":
            _ = self.tr(out.ctx.language)
            await feedback.follow_up(
                session,
                out,
                ticket,
                self,
                clock_texts.not_fixed_alert(_, ticket, note),
                f"notfixed:{ticket.id}:v{ticket.version}",
            )

    async def _brief_claimant(
        self, session: AsyncSession, out: Outgoing, ticket: Ticket, staff: Staff
    ) -> None:
        """The claimant, and only the claimant, gets the resident's name and phone."""
        resident = ticket.resident
        name = (resident.name if resident else None) or "—"
        phone = (resident.phone if resident else None) or "—"
        _ = self.tr(staff.language or out.ctx.language)
        if staff.has_private_chat:
            await out.to_chat(
                staff.telegram_id,
                f"brief:{ticket.id}:v{ticket.version}",
                texts.claimant_details(
                    _, ticket, staff.language or out.ctx.language, out.ctx.tz, name, phone
                ),
                ticket=ticket,
            )
            return
        tr = self.tr(out.ctx.language)
        await out.to_department(
            ticket.department,
            f"nudge:{staff.id}",
            tr(
                "{name}, please open a private chat with me and press Start, so I can send you "
                "the residents' contacts for your jobs."
            ).format(name=h(staff.name)),
        )

    async def _queue_card(self, out: Outgoing, ticket: Ticket) -> None:
        _ = self.tr(out.ctx.language)
        unreachable = bool(ticket.resident is not None and ticket.resident.unreachable)
        await out.card(
            ticket,
            texts.card(_, ticket, out.ctx.language, out.ctx.tz, unreachable),
            keyboards.card_markup(_, ticket.id, ticket.kind, ticket.status),
        )

    async def refresh_card(self, out: Outgoing, ticket: Ticket) -> None:
        await self._queue_card(out, ticket)

    async def requeue_cards(
        self, session: AsyncSession, out: Outgoing, department: Department
    ) -> None:
        """Cards of a department's open tickets, for a freshly bound group."""
        rows = (
            await session.scalars(
                select(Ticket)
                .where(Ticket.department_id == department.id, Ticket.status.in_(repo.OPEN_STATUSES))
                .order_by(Ticket.id)
            )
        ).all()
        for ticket in rows:
            ticket.card_message_id = None
            ticket.version += 1
            await session.flush()
            await self._queue_card(out, ticket)

    async def briefs_for(self, session: AsyncSession, out: Outgoing, staff: Staff) -> None:
        rows = (
            await session.scalars(
                select(Ticket).where(
                    Ticket.assignee_id == staff.id, Ticket.status.in_(repo.OPEN_STATUSES)
                )
            )
        ).all()
        for ticket in rows:
            await self._brief_claimant(session, out, ticket, staff)


def resume_date(note: str, tz: str) -> datetime | None:
    """ "On hold" notes may end with the date work resumes: midnight of that day, estate time."""
    match = DATE_AT_END.search(note)
    if match is None:
        return None
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        return None
    return local_instant(day, time(0, 0), ZoneInfo(tz))
