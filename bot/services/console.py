"""The managers' console: who may use it, requests in full, the overdue list, staff and
residents administration, invitations. Everything is scoped to the manager's estate."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.kinds import TicketKind, parse_number
from bot.domain.lifecycle import Actor, Event, Status, allowed_events
from bot.domain.permissions import Role
from bot.domain.spans import parse_span
from bot.services.base import Service
from bot.services.context import EstateContext
from bot.services.digests import overdue_condition
from bot.services.residents import ResidentService, mask_phone
from bot.services.tickets import ActResult, TicketService
from bot.ui import console_texts
from bot.ui.console_texts import FoundResident, HistoryItem, OverdueEntry, StaffLine, TicketCard
from bot.ui.format import local_time
from bot.ui.texts import where_line
from storage import repo
from storage.dialects import dialect_of
from storage.models import (
    Building,
    Callback,
    Department,
    Estate,
    Flat,
    Poll,
    RegistryEntry,
    Resident,
    Staff,
    StaffDepartment,
    Ticket,
    Verification,
)
from storage.types import UTCDateTime

MANAGING_ROLES = (Role.MANAGER.value, Role.ADMIN.value)
OVERDUE_SHOWN = 30
FOUND_SHOWN = 25
PENDING_SHOWN = 20
LEAD_ACTORS = frozenset({Actor.MANAGER, Actor.DISPATCHER})
ACTION_EVENTS = {
    "assign": Event.ASSIGN,
    "hold": Event.HOLD,
    "reopen": Event.REOPEN_TO_QUEUE,
    "close": Event.CLOSE,
}
DEFAULT_INVITE_TTL = "7d"
DEPARTMENT_CODES = re.compile(r"[a-z0-9_-]+(,[a-z0-9_-]*)*")


@dataclass(frozen=True)
class Manager:
    """A manager or admin, in the chat they are using (their estate's managers group, or a
    private chat with the bot)."""

    staff_id: int
    telegram_id: int
    estate_id: int
    name: str
    role: str
    private: bool


@dataclass
class TicketView:
    ticket_id: int
    number: str
    parts: list[str]
    actions: list[str]


@dataclass
class OverdueList:
    text: str
    entries: list[OverdueEntry]


@dataclass
class Pending:
    verification_id: int
    text: str


@dataclass
class InviteTarget:
    building: str
    flats: list[tuple[int, str]] = field(default_factory=list)
    ttl: timedelta = timedelta(days=7)
    expires: str = ""
    error: str | None = None


class ConsoleService(Service):
    def __init__(self, deps: Any, tickets: TicketService, residents: ResidentService) -> None:
        super().__init__(deps)
        self.tickets = tickets
        self.residents = residents

    # ---- who may use it -----------------------------------------------------------------
    async def manager(self, telegram_id: int, chat_id: int, chat_type: str) -> Manager | None:
        """The manager behind a command, or None: not a manager or admin, or not in a private
        chat or their estate's managers group."""
        async with self.transaction() as session:
            rows = (
                await session.scalars(
                    select(Staff)
                    .where(
                        Staff.telegram_id == telegram_id,
                        Staff.active.is_(True),
                        Staff.role.in_(MANAGING_ROLES),
                    )
                    .order_by(Staff.estate_id, Staff.id)
                )
            ).all()
            if not rows:
                return None
            if chat_type == "private":
                staff = rows[0]
                return Manager(staff.id, telegram_id, staff.estate_id, staff.name, staff.role, True)
            if chat_type not in ("group", "supergroup"):
                return None
            estate_ids = set(
                (
                    await session.scalars(
                        select(Estate.id).where(Estate.managers_chat_id == chat_id)
                    )
                ).all()
            )
            for staff in rows:
                if staff.estate_id in estate_ids:
                    return Manager(
                        staff.id, telegram_id, staff.estate_id, staff.name, staff.role, False
                    )
            return None

    async def estate_language(self, estate_id: int) -> str:
        async with self.transaction() as session:
            estate = await session.get(Estate, estate_id)
            return estate.language if estate else "en"

    # ---- one request --------------------------------------------------------------------
    async def find_ticket(self, manager: Manager, number: str) -> int | None:
        parsed = parse_number(number)
        if parsed is None:
            return None
        kind, seq = parsed
        async with self.transaction() as session:
            found = await session.scalar(
                select(Ticket.id).where(
                    Ticket.estate_id == manager.estate_id,
                    Ticket.kind == kind.value,
                    Ticket.seq == seq,
                )
            )
            return int(found) if found is not None else None

    async def ticket_view(self, manager: Manager, ticket_id: int, locale: str) -> TicketView | None:
        _ = self.tr(locale)
        async with self.transaction() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None or ticket.estate_id != manager.estate_id:
                return None
            out = await self.outgoing(session, ticket.estate_id)
            events = await repo.ticket_events(session, ticket.id)
            poll = await session.scalar(select(Poll).where(Poll.ticket_id == ticket.id))
            callbacks = (
                await session.scalars(
                    select(Callback).where(Callback.ticket_id == ticket.id).order_by(Callback.id)
                )
            ).all()
            resident = ticket.resident
            phone = None
            if resident is not None and resident.phone:
                phone = resident.phone if manager.private else mask_phone(resident.phone)
            card = TicketCard(
                number=ticket.number,
                kind=ticket.kind,
                category=ticket.category.label(locale) if ticket.category else None,
                department=ticket.department.name,
                where=where_line(_, ticket),
                resident=resident.name if resident else None,
                phone=phone,
                status=ticket.status,
                emergency=ticket.emergency,
                created_at=ticket.created_at,
                deadlines=[
                    ("claim", ticket.claim_due_at, ticket.claimed_at),
                    ("on_site", ticket.on_site_due_at, ticket.on_site_at),
                    ("resolve", ticket.resolve_due_at, ticket.resolved_at),
                ],
                assignee=ticket.assignee.name if ticket.assignee else None,
                description=ticket.description,
                photos=ticket.photo_count,
                history=[HistoryItem(e.at, e.event, e.actor_name, e.note) for e in events],
                rating=None
                if poll is None or poll.overall is None
                else {
                    "overall": poll.overall,
                    "attitude": poll.attitude,
                    "quality": poll.quality,
                    "timeliness": poll.timeliness,
                    "comment": poll.comment,
                },
                callbacks=[(c.reason, c.due_at, c.done_at) for c in callbacks],
                hold_reason=ticket.hold_reason if ticket.status == Status.ON_HOLD else None,
                resolution=ticket.resolution_note,
                reject_reason=ticket.reject_reason,
                answer=ticket.answer_text,
            )
            allowed = allowed_events(TicketKind(ticket.kind), Status(ticket.status), LEAD_ACTORS)
            actions = [name for name, event in ACTION_EVENTS.items() if event in allowed]
            text = console_texts.ticket_card(_, card, out.ctx.tz)
            return TicketView(ticket.id, ticket.number, console_texts.pack(text), actions)

    async def check(self, manager: Manager, ticket_id: int, action: str) -> ActResult:
        """May this manager do ``action`` on the request now (before asking for a reason)?"""
        event = ACTION_EVENTS.get(action)
        if event is None or not await self._in_estate(manager, ticket_id):
            return ActResult(False, "not_found")
        return await self.tickets.can(manager.telegram_id, ticket_id, event)

    async def act(
        self, manager: Manager, ticket_id: int, action: str, note: str | None = None
    ) -> ActResult:
        """Hold, reopen or close, through the one writer of ticket state."""
        event = ACTION_EVENTS.get(action)
        if event is None or event is Event.ASSIGN or not await self._in_estate(manager, ticket_id):
            return ActResult(False, "not_found")
        return await self.tickets.act(manager.telegram_id, ticket_id, event, note=note)

    async def _in_estate(self, manager: Manager, ticket_id: int) -> bool:
        async with self.transaction() as session:
            estate_id = await session.scalar(select(Ticket.estate_id).where(Ticket.id == ticket_id))
            return estate_id == manager.estate_id

    # ---- overdue ------------------------------------------------------------------------
    async def overdue(self, manager: Manager, locale: str) -> OverdueList:
        _ = self.tr(locale)
        now = self.deps.clock.now()
        async with self.transaction() as session:
            dialect = dialect_of(session)
            first_missed = earliest_missed(dialect, now)
            where = [Ticket.estate_id == manager.estate_id, overdue_condition(now)]
            total = int(await session.scalar(select(func.count(Ticket.id)).where(*where)) or 0)
            rows = (
                await session.scalars(
                    select(Ticket)
                    .where(*where)
                    .order_by(first_missed, Ticket.id)
                    .limit(OVERDUE_SHOWN)
                )
            ).all()
            entries = []
            for ticket in rows:
                step, due = missed_step(ticket, now)
                entries.append(
                    OverdueEntry(
                        ticket_id=ticket.id,
                        number=ticket.number,
                        department=ticket.department.name,
                        step=step,
                        late_seconds=(now - due).total_seconds(),
                        assignee=ticket.assignee.name if ticket.assignee else None,
                    )
                )
            return OverdueList(console_texts.overdue(_, entries, total), entries)

    # ---- staff --------------------------------------------------------------------------
    async def staff_list(self, manager: Manager, locale: str) -> str:
        _ = self.tr(locale)
        async with self.transaction() as session:
            rows = (
                await session.scalars(select(Staff).where(Staff.estate_id == manager.estate_id))
            ).all()
            open_jobs = dict(
                (
                    await session.execute(
                        select(Ticket.assignee_id, func.count(Ticket.id))
                        .where(
                            Ticket.estate_id == manager.estate_id,
                            Ticket.status.in_(repo.OPEN_STATUSES),
                            Ticket.assignee_id.is_not(None),
                        )
                        .group_by(Ticket.assignee_id)
                    )
                ).all()
            )
            active = [s for s in rows if s.active]
            order = {role: i for i, role in enumerate(console_texts.ROLE_ORDER)}
            active.sort(key=lambda s: (order.get(s.role, 9), s.name.lower(), s.id))
            lines = [
                StaffLine(
                    telegram_id=s.telegram_id,
                    name=s.name,
                    role=s.role,
                    departments=sorted(d.code for d in s.departments),
                    has_private_chat=s.has_private_chat,
                    open_jobs=int(open_jobs.get(s.id, 0)),
                )
                for s in active
            ]
            return console_texts.staff_list(_, lines, len(rows) - len(active))

    async def staff_add(self, manager: Manager, args: list[str], locale: str) -> str:
        """``ID ROLE [departments] [name]``: adds, or updates and reactivates, a staff member."""
        _ = self.tr(locale)
        if len(args) < 2:
            return console_texts.staff_usage(_)
        raw_id, raw_role, rest = args[0], args[1].lower(), args[2:]
        if not raw_id.isdigit() or int(raw_id) <= 0:
            return console_texts.staff_error(_, "bad_id", raw_id)
        if raw_role not in {r.value for r in Role}:
            return console_texts.staff_error(_, "bad_role", raw_role)
        telegram_id = int(raw_id)
        async with self.transaction() as session:
            departments = {
                d.code.lower(): d
                for d in (
                    await session.scalars(
                        select(Department).where(
                            Department.estate_id == manager.estate_id,
                            Department.active.is_(True),
                        )
                    )
                ).all()
            }
            chosen: list[Department] = []
            if rest and (rest[0] == "-" or DEPARTMENT_CODES.fullmatch(rest[0])):
                # Lowercase codes separated by commas (or "-" for none); a name starts with
                # anything else, e.g. a capital letter.
                codes = [c for c in rest[0].split(",") if c and c != "-"]
                unknown = [c for c in codes if c not in departments]
                if unknown:
                    return console_texts.staff_error(_, "bad_department", unknown[0])
                chosen = [departments[c] for c in codes]
                rest = rest[1:]
            name = " ".join(rest).strip()[:200]
            staff = await session.scalar(
                select(Staff).where(
                    Staff.estate_id == manager.estate_id, Staff.telegram_id == telegram_id
                )
            )
            if (raw_role == Role.ADMIN or (staff is not None and staff.role == Role.ADMIN)) and (
                manager.role != Role.ADMIN
            ):
                return console_texts.staff_error(_, "admin_only")
            updated = staff is not None
            if staff is None:
                staff = Staff(
                    estate_id=manager.estate_id,
                    telegram_id=telegram_id,
                    name=name or f"#{telegram_id}",
                    role=raw_role,
                )
                session.add(staff)
                await session.flush()
            else:
                staff.role, staff.active = raw_role, True
                if name:
                    staff.name = name
            links = (
                await session.scalars(
                    select(StaffDepartment).where(StaffDepartment.staff_id == staff.id)
                )
            ).all()
            wanted = {d.id for d in chosen}
            for link in links:
                if link.department_id not in wanted:
                    await session.delete(link)
            have = {link.department_id for link in links}
            for department in chosen:
                if department.id not in have:
                    session.add(StaffDepartment(staff_id=staff.id, department_id=department.id))
            await session.flush()
            return console_texts.staff_added(
                _, staff.name, staff.role, [d.code for d in chosen], updated
            )

    async def staff_remove(self, manager: Manager, args: list[str], locale: str) -> str:
        _ = self.tr(locale)
        if len(args) != 1:
            return console_texts.staff_usage(_)
        if not args[0].isdigit():
            return console_texts.staff_error(_, "bad_id", args[0])
        telegram_id = int(args[0])
        if telegram_id == manager.telegram_id:
            return console_texts.staff_error(_, "self")
        async with self.transaction() as session:
            staff = await session.scalar(
                select(Staff).where(
                    Staff.estate_id == manager.estate_id,
                    Staff.telegram_id == telegram_id,
                    Staff.active.is_(True),
                )
            )
            if staff is None:
                return console_texts.staff_error(_, "not_found", args[0])
            if staff.role == Role.ADMIN and manager.role != Role.ADMIN:
                return console_texts.staff_error(_, "admin_only")
            staff.active = False
            open_jobs = int(
                await session.scalar(
                    select(func.count(Ticket.id)).where(
                        Ticket.assignee_id == staff.id, Ticket.status.in_(repo.OPEN_STATUSES)
                    )
                )
                or 0
            )
            return console_texts.staff_removed(_, staff.name, open_jobs)

    # ---- residents ----------------------------------------------------------------------
    async def pending(self, manager: Manager, locale: str) -> list[Pending]:
        _ = self.tr(locale)
        async with self.transaction() as session:
            rows = (
                await session.scalars(
                    select(Verification)
                    .join(Resident, Resident.id == Verification.resident_id)
                    .where(
                        Resident.estate_id == manager.estate_id,
                        Verification.status == "pending",
                    )
                    .order_by(Verification.created_at, Verification.id)
                    .limit(PENDING_SHOWN)
                )
            ).all()
            found = []
            for verification in rows:
                resident = verification.resident
                phone = resident.phone or ""
                found.append(
                    Pending(
                        verification.id,
                        console_texts.pending_card(
                            _,
                            resident.name or "—",
                            phone if manager.private else mask_phone(phone),
                            verification.flat.label,
                            verification.flat.building.name,
                        ),
                    )
                )
            return found

    async def find_residents(self, manager: Manager, query: str, locale: str) -> str:
        _ = self.tr(locale)
        query = query.strip()
        digits = "".join(ch for ch in query if ch.isdigit())
        phone_like = len(digits) >= 4 and all(ch.isdigit() or ch in "+ -()" for ch in query)
        async with self.transaction() as session:
            if phone_like:
                resident_match: Any = Resident.phone.like(f"%{digits}%")
                registry_match: Any = RegistryEntry.phone.like(f"%{digits}%")
            else:
                flat_ids = await self._flats_matching(session, manager.estate_id, query)
                if not flat_ids:
                    return console_texts.found_residents(_, query, [])
                resident_match = Resident.flat_id.in_(flat_ids)
                registry_match = RegistryEntry.flat_id.in_(flat_ids)
            residents = (
                await session.scalars(
                    select(Resident)
                    .where(Resident.estate_id == manager.estate_id, resident_match)
                    .order_by(Resident.id)
                    .limit(FOUND_SHOWN)
                )
            ).all()
            counts = dict(
                (
                    await session.execute(
                        select(Ticket.resident_id, func.count(Ticket.id))
                        .where(Ticket.resident_id.in_([r.id for r in residents]))
                        .group_by(Ticket.resident_id)
                    )
                ).all()
            )
            rows: list[FoundResident] = []
            seen_phones = set()
            for resident in residents:
                flat = resident.flat
                rows.append(
                    FoundResident(
                        name=resident.name or "—",
                        phone=resident.phone or "—",
                        flat=flat.label if flat else "—",
                        building=flat.building.name if flat else "—",
                        status=resident.status,
                        registered=True,
                        requests=int(counts.get(resident.id, 0)),
                    )
                )
                seen_phones.add("".join(ch for ch in resident.phone or "" if ch.isdigit()))
            entries = (
                await session.scalars(
                    select(RegistryEntry)
                    .where(
                        RegistryEntry.estate_id == manager.estate_id,
                        RegistryEntry.active.is_(True),
                        registry_match,
                    )
                    .order_by(RegistryEntry.id)
                    .limit(FOUND_SHOWN)
                )
            ).all()
            for entry in entries:
                if "".join(ch for ch in entry.phone if ch.isdigit()) in seen_phones:
                    continue
                flat = await session.get(Flat, entry.flat_id)
                rows.append(
                    FoundResident(
                        name=entry.name,
                        phone=entry.phone,
                        flat=flat.label if flat else "—",
                        building=flat.building.name if flat else "—",
                        status="registry",
                        registered=False,
                        requests=0,
                    )
                )
            return console_texts.found_residents(_, query, rows[:FOUND_SHOWN])

    async def _flats_matching(self, session: AsyncSession, estate_id: int, query: str) -> list[int]:
        """``101``, ``A 101``, ``A/101`` or ``A-101``: flats by label, optionally in a building
        (by code or name)."""
        words = query.replace("/", " ").split()
        if len(words) == 1 and "-" in words[0]:
            head, _sep, tail = words[0].partition("-")
            candidates = [(head, tail), (None, words[0])]
        elif len(words) >= 2:
            candidates = [(" ".join(words[:-1]), words[-1])]
        elif words:
            candidates = [(None, words[0])]
        else:
            return []
        for building, label in candidates:
            query_ = (
                select(Flat.id)
                .join(Building, Building.id == Flat.building_id)
                .where(Building.estate_id == estate_id, func.upper(Flat.label) == label.upper())
            )
            if building is not None:
                query_ = query_.where(
                    or_(
                        func.upper(Building.code) == building.upper(),
                        func.upper(Building.name) == building.upper(),
                    )
                )
            found = list((await session.scalars(query_)).all())
            if found:
                return found
        return []

    # ---- invitations --------------------------------------------------------------------
    async def invite_target(
        self, manager: Manager, building: str, flat: str, locale: str
    ) -> InviteTarget:
        _ = self.tr(locale)
        async with self.transaction() as session:
            estate = await session.get(Estate, manager.estate_id)
            assert estate is not None
            ctx = EstateContext.of(estate)
            buildings = await repo.buildings(session, manager.estate_id)
            match = next(
                (
                    b
                    for b in buildings
                    if b.code.upper() == building.upper() or b.name.upper() == building.upper()
                ),
                None,
            )
            if match is None:
                known = ", ".join(b.code for b in buildings)
                return InviteTarget(
                    building, error=console_texts.invite_error(_, "building", building, known)
                )
            flats = (
                await session.scalars(
                    select(Flat)
                    .where(Flat.building_id == match.id, Flat.active.is_(True))
                    .order_by(Flat.id)
                )
            ).all()
            if flat.lower() != "all":
                flats = [f for f in flats if f.label.upper() == flat.upper()]
                if not flats:
                    return InviteTarget(
                        match.name, error=console_texts.invite_error(_, "flat", flat)
                    )
            if not flats:
                return InviteTarget(
                    match.name, error=console_texts.invite_error(_, "empty", building)
                )
            span = parse_span((estate.settings or {}).get("invite_ttl", DEFAULT_INVITE_TTL))
            now = self.deps.clock.now()
            expires_at = ctx.calendar.due(now, span) if span.is_working else now + span.delta
            return InviteTarget(
                building=match.name,
                flats=[(f.id, f.label) for f in flats],
                ttl=expires_at - now,
                expires=local_time(expires_at, ctx.tz),
            )

    async def invite(self, target: InviteTarget, bot_username: str) -> list[tuple[str, str]]:
        """One single-use invitation per flat: (flat label, deep link)."""
        links = []
        for flat_id, label in target.flats:
            payload = await self.residents.create_invitation(flat_id, target.ttl)
            links.append((label, f"https://t.me/{bot_username}?start={payload}"))
        return links

    # ---- command menus ------------------------------------------------------------------
    async def command_scopes(self) -> list[tuple[str, int, str, list[int]]]:
        """Per estate: (language, managers chat id or 0, slug, managers' Telegram ids)."""
        async with self.transaction() as session:
            estates = (await session.scalars(select(Estate).order_by(Estate.id))).all()
            found = []
            for estate in estates:
                ids = (
                    await session.scalars(
                        select(Staff.telegram_id).where(
                            Staff.estate_id == estate.id,
                            Staff.active.is_(True),
                            Staff.role.in_(MANAGING_ROLES),
                        )
                    )
                ).all()
                found.append(
                    (estate.language, estate.managers_chat_id or 0, estate.slug, list(ids))
                )
            return found


# ---- the overdue rule, step by step ---------------------------------------------------------
def overdue_steps(now: datetime) -> list[tuple[str, Any, Any]]:
    """The three ways to be overdue (as in ``overdue_condition``): name, condition, deadline."""
    return [
        ("claim", and_(Ticket.status == "new", Ticket.claim_due_at < now), Ticket.claim_due_at),
        (
            "on_site",
            and_(
                Ticket.on_site_at.is_(None),
                Ticket.status.in_(["new", "claimed"]),
                Ticket.on_site_due_at < now,
            ),
            Ticket.on_site_due_at,
        ),
        (
            "resolve",
            and_(Ticket.status.not_in(["resolved", "answered"]), Ticket.resolve_due_at < now),
            Ticket.resolve_due_at,
        ),
    ]


def earliest_missed(dialect: str, now: datetime) -> Any:
    """The earliest deadline a request has missed, for ORDER BY (most late first)."""
    far = literal(datetime(9999, 1, 1, tzinfo=UTC), UTCDateTime())
    applicable = [case((condition, due), else_=far) for _n, condition, due in overdue_steps(now)]
    return func.least(*applicable) if dialect == "postgresql" else func.min(*applicable)


def missed_step(ticket: Ticket, now: datetime) -> tuple[str, datetime]:
    """Which deadline a request missed first, and when it was."""
    missed: list[tuple[datetime, str]] = []
    status = ticket.status
    if status == "new" and ticket.claim_due_at is not None and ticket.claim_due_at < now:
        missed.append((ticket.claim_due_at, "claim"))
    if (
        ticket.on_site_at is None
        and status in ("new", "claimed")
        and ticket.on_site_due_at is not None
        and ticket.on_site_due_at < now
    ):
        missed.append((ticket.on_site_due_at, "on_site"))
    if (
        status not in ("resolved", "answered")
        and ticket.resolve_due_at is not None
        and ticket.resolve_due_at < now
    ):
        missed.append((ticket.resolve_due_at, "resolve"))
    if not missed:
        return "resolve", now
    due, step = min(missed)
    return step, due
