"""Queries the services share."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, Integer, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload

from storage.dialects import Executor
from storage.models import (
    OPEN_STATUSES as OPEN_STATUSES,
)
from storage.models import (
    Building,
    Category,
    Department,
    Estate,
    Flat,
    Resident,
    Staff,
    Ticket,
    TicketCounter,
    TicketEvent,
)

# Open, as the open-requests index has it (``ix_tickets_open``): the statuses rendered as
# literals, so that the database can tell the partial index holds every row the query wants
# (a parameter list would hide that from SQLite's planner, and from PostgreSQL's generic plans).
IS_OPEN = Ticket.status.in_(
    bindparam("open_statuses", OPEN_STATUSES, expanding=True, literal_execute=True)
)

# The statements a resident's updates run are built once, with parameters: building one (and
# deriving its cache key) cost more CPU than running it on an estate's database.
TELEGRAM_ID = bindparam("telegram_id", type_=BigInteger)
RESIDENT_BY_TELEGRAM = select(Resident).where(Resident.telegram_id == TELEGRAM_ID)
RESIDENT_IDS = select(Resident.id, Resident.estate_id).where(Resident.telegram_id == TELEGRAM_ID)
CATEGORIES = (
    select(Category)
    .where(
        Category.estate_id == bindparam("estate_id"),
        Category.kind == bindparam("kind"),
        Category.active.is_(True),
    )
    .order_by(Category.position, Category.id)
)
OPEN_TICKET_COUNT = (
    select(func.count())
    .select_from(Ticket)
    .where(Ticket.resident_id == bindparam("resident_id"), Ticket.status.in_(OPEN_STATUSES))
)
RESIDENT_TICKET_COUNT = (
    select(func.count()).select_from(Ticket).where(Ticket.resident_id == bindparam("resident_id"))
)
RESIDENT_TICKETS_PAGE = (
    select(Ticket.id, Ticket.number, Ticket.kind, Ticket.status, Ticket.created_at)
    .where(Ticket.resident_id == bindparam("resident_id"))
    .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    .offset(bindparam("offset", type_=Integer))
    .limit(bindparam("limit", type_=Integer))
)


async def resident_by_telegram(session: AsyncSession, telegram_id: int) -> Resident | None:
    return await session.scalar(RESIDENT_BY_TELEGRAM, {"telegram_id": telegram_id})


async def resident_ids(executor: Executor, telegram_id: int) -> tuple[int, int] | None:
    """(id, estate id) of the resident, without loading the entity and its flat."""
    row = (await executor.execute(RESIDENT_IDS, {"telegram_id": telegram_id})).first()
    return (row[0], row[1]) if row is not None else None


async def staff_by_telegram(
    session: AsyncSession, telegram_id: int, estate_id: int | None = None
) -> Staff | None:
    query = select(Staff).where(Staff.telegram_id == telegram_id, Staff.active.is_(True))
    if estate_id is not None:
        query = query.where(Staff.estate_id == estate_id)
    return (await session.scalars(query.order_by(Staff.id))).first()


async def department_by_chat(
    session: AsyncSession, chat_id: int, thread_id: int | None
) -> Department | None:
    rows = (
        await session.scalars(
            select(Department).where(Department.chat_id == chat_id, Department.active.is_(True))
        )
    ).all()
    for department in rows:
        if department.thread_id == thread_id:
            return department
    for department in rows:
        if department.thread_id is None:
            return department
    return None


async def only_estate(session: AsyncSession) -> Estate | None:
    return (await session.scalars(select(Estate).order_by(Estate.id))).first()


async def buildings(session: AsyncSession, estate_id: int) -> Sequence[Building]:
    return (
        await session.scalars(
            select(Building)
            .where(Building.estate_id == estate_id, Building.active.is_(True))
            .order_by(Building.position, Building.code)
        )
    ).all()


async def flat_in_building(session: AsyncSession, building_id: int, label: str) -> Flat | None:
    return await session.scalar(
        select(Flat).where(
            Flat.building_id == building_id,
            func.upper(Flat.label) == label.strip().upper(),
            Flat.active.is_(True),
        )
    )


async def categories(session: AsyncSession, estate_id: int, kind: str) -> Sequence[Category]:
    return (await session.scalars(CATEGORIES, {"estate_id": estate_id, "kind": kind})).all()


async def open_ticket_count(session: AsyncSession, resident_id: int) -> int:
    return int(await session.scalar(OPEN_TICKET_COUNT, {"resident_id": resident_id}) or 0)


async def next_ticket_seq(session: AsyncSession, estate_id: int, kind: str) -> int:
    """Numbers per estate and kind; the row lock of the UPDATE serialises concurrent filers."""
    result = await session.execute(
        update(TicketCounter)
        .where(TicketCounter.estate_id == estate_id, TicketCounter.kind == kind)
        .values(last=TicketCounter.last + 1)
        .returning(TicketCounter.last)
    )
    value = result.scalar_one_or_none()
    if value is not None:
        return int(value)
    session.add(TicketCounter(estate_id=estate_id, kind=kind, last=1))
    await session.flush()
    return 1


TICKET_EVENTS = (
    select(TicketEvent)
    .where(TicketEvent.ticket_id == bindparam("ticket_id"))
    .order_by(TicketEvent.id)
)
# A request as its details show it: its category, and its flat with the flat's building; none of
# the other relationships (a Ticket joins five, and its assignee selects their departments).
TICKET_DETAILS = (
    select(Ticket)
    .where(Ticket.id == bindparam("ticket_id"))
    .options(
        joinedload(Ticket.category),
        joinedload(Ticket.flat).joinedload(Flat.building),
        raiseload("*"),
    )
)


async def ticket_events(session: AsyncSession, ticket_id: int) -> Sequence[TicketEvent]:
    return (await session.scalars(TICKET_EVENTS, {"ticket_id": ticket_id})).all()


@dataclass(frozen=True)
class TicketLine:
    """What a line of "My requests" shows of a request (no entity: a Ticket loads five joined
    relationships, ~30 objects for one page)."""

    id: int
    number: str
    kind: str
    status: str
    created_at: datetime


async def resident_tickets_page(
    executor: Executor, resident_id: int, page: int, size: int
) -> tuple[list[TicketLine], int]:
    total = int(await executor.scalar(RESIDENT_TICKET_COUNT, {"resident_id": resident_id}) or 0)
    rows = await executor.execute(
        RESIDENT_TICKETS_PAGE, {"resident_id": resident_id, "offset": page * size, "limit": size}
    )
    return [TicketLine(*row) for row in rows], total
