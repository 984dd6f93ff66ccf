"""The clock's use cases: each reads due work and applies it once.

Every step claims its rows with a conditional update (``... where <done-column> is null and
<still-valid>``), so a level of the escalation ladder happens once, whichever process gets there
first, and never after the ticket has moved on (the status is part of the condition). The steps
are set-based: one ``UPDATE … RETURNING`` claims a batch and reads what the messages need, one
query each loads the batch's departments, assignees and residents, one batched INSERT
(``enqueue_many``) queues the messages, all in one transaction; batches repeat until nothing is
due (or the step's time budget is spent), so a backlog drains in one tick.

Claim reminders, the step with the most requests due (every new request nobody has taken
halfway to its claim deadline), write nothing on the requests: a mark in ``clock_marks`` records
how far the step has got (``bot.services.marked_step``), so queueing them costs an outbox row
each.
"""

import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from aiogram.types import InlineKeyboardButton
from sqlalchemy import (
    ColumnElement,
    Table,
    bindparam,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, raiseload

from bot.domain.lifecycle import AWAITING_CONFIRMATION, Event, Status
from bot.services.base import Service
from bot.services.context import EstateContext, estate_context
from bot.services.marked_step import TICKETS, MarkedStep, QueuedInSql
from bot.services.notify import OutboxRows
from bot.services.tickets import TicketService
from bot.ui import clock_texts, keyboards
from bot.ui.callbacks import LeadAct
from storage.models import (
    Department,
    Estate,
    Poll,
    Resident,
    Staff,
    Ticket,
    TicketEvent,
)
from storage.outbox_repo import enqueue_many

log = logging.getLogger(__name__)

NOT_YET_CLAIMED = [Status.NEW.value]
NOT_ON_SITE = [Status.NEW.value, Status.CLAIMED.value]
NOT_RESOLVED = [s.value for s in Status if s.is_open and s not in AWAITING_CONFIRMATION]
AWAITING = [s.value for s in AWAITING_CONFIRMATION]
BATCH = 1000  # rows claimed per statement
# Requests a claim-reminder batch passes: it locks only its mark, not the requests, so a
# larger batch holds nothing another worker needs (on SQLite, the write lock for ~30 ms).
MARKED_BATCH = 5000
ASSIGNEE, RESIDENT = "assignee", "resident"  # what a step's messages read beyond the department
STEP_BUDGET = 10.0  # seconds a step may keep taking batches in one sweep; the rest waits a tick


CLAIM_REMINDER = QueuedInSql("claim_reminder", "remind:", ":claim")
# Halfway to the claim deadline, nobody has taken the request; not for those already past the
# deadline: the overdue alert says it all.
CLAIM_REMINDERS = MarkedStep(
    "claim_reminders",
    due=TICKETS.c.claim_remind_at,
    status=Status.NEW.value,
    message=CLAIM_REMINDER,
    unless=TICKETS.c.claim_due_at.is_not(None)
    & (TICKETS.c.claim_due_at <= bindparam("now", type_=TICKETS.c.claim_due_at.type)),
)


@dataclass
class SweepReport:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, count: int) -> None:
        if count:
            self.counts[name] = self.counts.get(name, 0) + count


@dataclass
class DueTicket:
    """What a step's messages need of a ticket it claimed, read by the claiming ``UPDATE …
    RETURNING`` itself (no ORM load of each ticket). It has the attributes of ``Ticket`` that
    ``bot.ui.clock_texts`` and the keyboards read, so the texts are the same as before."""

    id: int
    estate_id: int
    number: str
    kind: str
    version: int
    emergency: bool
    description: str
    claimed_at: datetime | None
    claim_due_at: datetime | None
    on_site_due_at: datetime | None
    resolve_due_at: datetime | None
    department: Department
    assignee: Staff | None
    resident: Resident | None

    def as_ticket(self) -> Ticket:
        """For the text builders, which read only these attributes."""
        return cast(Ticket, self)


RETURNED = (
    Ticket.id,
    Ticket.estate_id,
    Ticket.number,
    Ticket.kind,
    Ticket.version,
    Ticket.emergency,
    Ticket.description,
    Ticket.claimed_at,
    Ticket.claim_due_at,
    Ticket.on_site_due_at,
    Ticket.resolve_due_at,
    Ticket.department_id,
    Ticket.assignee_id,
    Ticket.resident_id,
)


def claiming(
    status: str,
    limit: int,
    due: Any,
    done: Any,
    conditions: Sequence[ColumnElement[bool]],
    now: datetime,
) -> Any:
    """``UPDATE tickets SET <done> = now`` for up to ``limit`` tickets of ``status`` that meet
    ``conditions``, oldest ``due`` first (see ``ClockService._step``); the caller adds what it
    returns. Of the table, not the entity: no ORM bookkeeping for the rows returned."""
    candidates = (
        select(Ticket.id)
        .where(Ticket.status == status, *conditions)
        .order_by(due, Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
        .cte("candidates")
        .prefix_with("MATERIALIZED")
    )
    return (
        update(TICKETS)
        .where(Ticket.id.in_(select(candidates.c.id)), Ticket.status == status, *conditions)
        .values({done.key: now})
    )


async def claim_batch(
    session: AsyncSession, statuses: Sequence[str], claim: Callable[[str, int], Any]
) -> list[Any]:
    """Up to ``BATCH`` rows claimed by ``claim(status, limit)``, a status at a time."""
    rows: list[Any] = []
    for status in statuses:
        rows += (await session.execute(claim(status, BATCH - len(rows)))).all()
        if len(rows) >= BATCH:
            break
    return rows


class ClockService(Service):
    def __init__(self, deps: Any, tickets: TicketService) -> None:
        super().__init__(deps)
        self.tickets = tickets

    async def sweep(self) -> SweepReport:
        """Everything due now, in the order the ladder climbs."""
        report = SweepReport()
        now = self.deps.clock.now()
        contexts = await self._contexts()
        report.add("claim_reminders", await self.claim_reminders(now))
        report.add("claim_overdue", await self.overdue(now, "claim", contexts))
        report.add("on_site_overdue", await self.overdue(now, "on_site", contexts))
        report.add("technician_reminders", await self.technician_reminders(now, contexts))
        report.add("resolve_overdue", await self.overdue(now, "resolve", contexts))
        report.add("resumed", await self.resume_holds(now, contexts))
        report.add("confirm_reminders", await self.confirm_reminders(now, contexts))
        report.add("auto_closed", await self.auto_close(now, contexts))
        report.add("poll_reminders", await self.poll_reminders(now, contexts))
        report.add("polls_expired", await self.expire_polls(now))
        return report

    # ---- the ladder ----------------------------------------------------------------------
    async def claim_reminders(self, now: datetime) -> int:
        """A reminder in the department group, as a reply to the card, for each new request
        nobody has taken by its reminder time (not for those already past the claim deadline:
        the overdue alert says it all). Written when it is sent (``render``): the sweep queues
        the rows with one ``INSERT … SELECT`` per batch and no per-row Python, and writes
        nothing on the requests (``MarkedStep``)."""
        total = 0
        started = time.monotonic()
        more = True
        while more and time.monotonic() - started <= STEP_BUDGET:
            async with self.transaction() as session:
                more, queued = await CLAIM_REMINDERS.run_batch(session, now, MARKED_BATCH)
            total += queued
        return total

    async def render(self, template: str, ticket_id: int) -> dict[str, Any] | None:
        """The text of a message the sweep queued unwritten (``payload["render"]``), in the
        estate's language as it is now, or ``None`` when it is no longer owed (the request
        moved on between the sweep and the send)."""
        async with self.transaction() as session:
            ticket = await session.get(Ticket, ticket_id, options=[raiseload("*")])
            if ticket is None:
                return None
            ctx = await estate_context(session, ticket.estate_id)
            assert ctx is not None
        if template == CLAIM_REMINDER.template:
            if ticket.status not in NOT_YET_CLAIMED:
                return None
            return {"text": clock_texts.claim_reminder(self.tr(ctx.language), ticket, ctx.tz)}
        log.error("render: unknown template %r for ticket %s", template, ticket_id)
        return None

    async def overdue(
        self, now: datetime, level: str, contexts: dict[int, EstateContext] | None = None
    ) -> int:
        due_column, done_column, statuses, still = {
            "claim": (Ticket.claim_due_at, Ticket.claim_overdue_at, NOT_YET_CLAIMED, []),
            "on_site": (
                Ticket.on_site_due_at,
                Ticket.on_site_overdue_at,
                NOT_ON_SITE,
                [Ticket.on_site_at.is_(None)],
            ),
            "resolve": (Ticket.resolve_due_at, Ticket.resolve_overdue_at, NOT_RESOLVED, []),
        }[level]

        def message(batch: OutboxRows, ticket: DueTicket) -> bool:
            self._alert_managers(
                batch,
                ticket,
                f"overdue:{ticket.id}:{level}",
                clock_texts.overdue_alert(
                    self.tr(batch.ctx.language), ticket.as_ticket(), level, batch.ctx.tz
                ),
                assign=True,
            )
            return True

        return await self._step(
            now,
            contexts,
            due=due_column,
            due_before=now,
            done=done_column,
            statuses=statuses,
            still=still,
            message=message,
            event=f"overdue_{level}",
            load=frozenset({ASSIGNEE}),  # "Taken by …" in the alert
        )

    async def technician_reminders(
        self, now: datetime, contexts: dict[int, EstateContext] | None = None
    ) -> int:
        def message(batch: OutboxRows, ticket: DueTicket) -> bool:
            staff = ticket.assignee
            if staff is None:
                return False
            _ = self.tr(staff.language or batch.ctx.language)
            text = clock_texts.technician_reminder(_, ticket.as_ticket(), batch.ctx.tz)
            if staff.has_private_chat:
                batch.to_chat(
                    staff.telegram_id, f"remind:{ticket.id}:technician", text, ticket=ticket
                )
            else:
                batch.to_department(
                    ticket.department,
                    f"remind:{ticket.id}:technician",
                    text,
                    ticket=ticket,
                    reply_to_card=True,
                )
            return True

        return await self._step(
            now,
            contexts,
            due=Ticket.on_site_due_at,
            due_before=now,
            done=Ticket.technician_reminded_at,
            statuses=[Status.CLAIMED.value, Status.ON_THE_WAY.value],
            still=[Ticket.started_at.is_(None)],
            message=message,
            load=frozenset({ASSIGNEE}),
        )

    async def resume_holds(
        self, now: datetime, contexts: dict[int, EstateContext] | None = None
    ) -> int:
        contexts = contexts if contexts is not None else await self._contexts()
        done = 0
        async for ticket_id in self._each(Ticket.hold_until, now, [Status.ON_HOLD.value]):
            result = await self.tickets.act(None, ticket_id, Event.RESUME)
            if not result.ok:
                continue
            async with self.transaction() as session:
                ticket = await session.get(Ticket, ticket_id)
                assert ticket is not None
                batch = OutboxRows(contexts[ticket.estate_id], now)
                batch.to_department(
                    ticket.department,
                    f"resumed:{ticket.id}:v{ticket.version}",
                    clock_texts.resumed(self.tr(batch.ctx.language), ticket),
                    ticket=ticket,
                    reply_to_card=True,
                )
                await enqueue_many(session, batch.rows)
            done += 1
        return done

    # ---- after resolution ---------------------------------------------------------------
    async def confirm_reminders(
        self, now: datetime, contexts: dict[int, EstateContext] | None = None
    ) -> int:
        contexts = contexts if contexts is not None else await self._contexts()

        def message(batch: OutboxRows, ticket: DueTicket) -> bool:
            if ticket.resident is None:
                return False
            _ = self.tr(ticket.resident.language)
            batch.to_resident(
                ticket.resident,
                f"confirm-reminder:{ticket.id}:v{ticket.version}",
                clock_texts.confirm_reminder(_, ticket.as_ticket()),
                ticket=ticket,
                markup=keyboards.confirm_fix(_, ticket.id, ticket.kind),
                urgent=ticket.emergency,
            )
            return True

        done = 0
        for estate_id, ctx in contexts.items():
            done += await self._step(
                now,
                contexts,
                due=Ticket.resolved_at,
                due_before=now - ctx.clock["resolved_reminder"].delta,
                done=Ticket.confirm_reminded_at,
                statuses=AWAITING,
                where=[Ticket.estate_id == estate_id],
                message=message,
                load=frozenset({RESIDENT}),
            )
        return done

    async def auto_close(
        self, now: datetime, contexts: dict[int, EstateContext] | None = None
    ) -> int:
        contexts = contexts if contexts is not None else await self._contexts()
        done = 0
        for estate_id, ctx in contexts.items():
            async for ticket_id in self._each(
                Ticket.resolved_at,
                now - ctx.clock["auto_close"].delta,
                AWAITING,
                Ticket.estate_id == estate_id,
            ):
                done += (await self.tickets.act(None, ticket_id, Event.AUTO_CLOSE)).ok
        return done

    async def poll_reminders(
        self, now: datetime, contexts: dict[int, EstateContext] | None = None
    ) -> int:
        contexts = contexts if contexts is not None else await self._contexts()
        done = 0
        started = time.monotonic()
        while True:
            async with self.transaction() as session:
                due = (
                    select(Poll.id)
                    .where(Poll.status == "open", Poll.remind_at <= now)
                    .order_by(Poll.remind_at, Poll.id)
                    .limit(BATCH)
                    .with_for_update(skip_locked=True, key_share=True)
                    .cte("due_polls")
                    .prefix_with("MATERIALIZED")
                )
                claimed = (
                    await session.scalars(
                        update(Poll)
                        .where(
                            Poll.id.in_(select(due.c.id)),
                            Poll.status == "open",
                            Poll.remind_at.is_not(None),
                        )
                        .values(remind_at=None)
                        .returning(Poll.id)
                        .execution_options(synchronize_session=False)
                    )
                ).all()
                if not claimed:
                    break
                polls = (
                    await session.scalars(
                        select(Poll)
                        .where(Poll.id.in_(claimed))
                        .order_by(Poll.id)
                        .options(
                            raiseload("*"),
                            joinedload(Poll.ticket).raiseload("*"),
                            joinedload(Poll.ticket, Ticket.resident).raiseload("*"),
                        )
                    )
                ).all()
                rows: list[dict[str, Any]] = []
                for poll in polls:
                    ticket = poll.ticket
                    if ticket.resident is None:
                        continue
                    batch = OutboxRows(contexts[ticket.estate_id], now)
                    _ = self.tr(ticket.resident.language)
                    batch.to_resident(
                        ticket.resident,
                        f"poll-reminder:{poll.id}",
                        clock_texts.poll_reminder(_, ticket.number),
                        ticket=ticket,
                        markup=keyboards.poll_markup(_, poll.id, poll.step),
                    )
                    rows += batch.rows
                    done += 1
                await enqueue_many(session, rows)
            if len(claimed) < BATCH or time.monotonic() - started > STEP_BUDGET:
                break
        return done

    async def expire_polls(self, now: datetime) -> int:
        async with self.transaction() as session:
            result = await session.execute(
                update(Poll)
                .where(Poll.status == "open", Poll.expires_at <= now)
                .values(status="expired")
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def tick_seconds(self) -> float:
        """How often to sweep: the shortest ``[clock] tick`` of the estates (30 s by default)."""
        contexts = await self._contexts()
        return min(
            (ctx.clock["tick"].delta.total_seconds() for ctx in contexts.values()), default=30.0
        )

    # ---- helpers --------------------------------------------------------------------------
    async def _step(
        self,
        now: datetime,
        contexts: dict[int, EstateContext] | None,
        *,
        due: Any,
        due_before: datetime,
        done: Any,
        statuses: Sequence[str],
        message: Callable[[OutboxRows, DueTicket], bool],
        still: Iterable[ColumnElement[bool]] = (),
        where: Iterable[ColumnElement[bool]] = (),
        event: str | None = None,
        load: frozenset[str] = frozenset(),
    ) -> int:
        """One level of the ladder for every ticket due for it, a batch per transaction: claim
        the batch with ``UPDATE … WHERE <done> IS NULL AND <status and still> … RETURNING``
        (on PostgreSQL the candidates are locked ``FOR NO KEY UPDATE SKIP LOCKED`` — the lock
        the UPDATE takes anyway, so rows referencing the tickets are not blocked — and
        concurrent sweeps take different rows, in index order, without waiting or deadlocking;
        a row another sweep claimed first fails the ``<done> IS NULL`` re-check). The candidates
        are a ``MATERIALIZED`` CTE: as a plain ``IN (subquery)`` PostgreSQL may plan them as the
        inner side of a nested loop and rescan them per row, and a rescanned ``SKIP LOCKED …
        LIMIT`` returns other rows each time, so batches came back short and a sweep stopped
        with work left. Then write
        the messages (and audit events) with one batched INSERT each, in the same transaction.

        One statement per status: ``status = :s AND due <= :now ORDER BY due LIMIT n`` is an
        ordered range of the ``(status, due)`` index on both databases. With ``status IN (…)``
        PostgreSQL's planner, which cannot know that open requests have their deadlines ahead
        while closed ones have them behind, estimates most open rows due and reads all of them
        (a bitmap heap scan over every open request, 30–110 ms with nothing due)."""
        contexts = contexts if contexts is not None else await self._contexts()
        conditions = [due <= due_before, done.is_(None), *still, *where]

        def claim(status: str, limit: int) -> Any:
            return claiming(status, limit, due, done, conditions, now).returning(*RETURNED)

        total = 0
        departments: dict[int, Department] = {}
        started = time.monotonic()
        while True:
            async with self.transaction() as session:
                rows = await claim_batch(session, statuses, claim)
                if not rows:
                    break
                rows.sort(key=lambda row: row.id)
                tickets = await self._due_tickets(session, rows, departments, load)
                batches: dict[int, OutboxRows] = {}
                for ticket in tickets:
                    batch = batches.get(ticket.estate_id)
                    if batch is None:
                        batch = batches[ticket.estate_id] = OutboxRows(
                            contexts[ticket.estate_id], now
                        )
                    total += message(batch, ticket)
                if event is not None:
                    await session.execute(
                        # Core, not ORM, insert: the ORM's bulk path costs ~25 us a row here.
                        insert(cast(Table, TicketEvent.__table__)),
                        [
                            {"ticket_id": t.id, "at": now, "event": event, "actor_kind": "system"}
                            for t in tickets
                        ],
                    )
                await enqueue_many(session, [row for b in batches.values() for row in b.rows])
            if len(rows) < BATCH or time.monotonic() - started > STEP_BUDGET:
                break
        return total

    async def _due_tickets(
        self,
        session: AsyncSession,
        rows: Sequence[Any],
        departments: dict[int, Department],
        load: frozenset[str],
    ) -> list[DueTicket]:
        """The claimed rows with their department, and their assignee and resident when the
        step's messages need them (``load``; one query each: loading 1,000 residents nobody
        reads was a third of a claim-reminder batch)."""
        wanted = {row.department_id for row in rows} - departments.keys()
        if wanted:
            found = await session.scalars(select(Department).where(Department.id.in_(wanted)))
            departments.update({d.id: d for d in found})
        staff: dict[int, Staff] = {}
        assignees = {row.assignee_id for row in rows if row.assignee_id is not None}
        if assignees and ASSIGNEE in load:
            found_staff = await session.scalars(
                select(Staff).where(Staff.id.in_(assignees)).options(raiseload("*"))
            )
            staff = {s.id: s for s in found_staff}
        residents: dict[int, Resident] = {}
        resident_ids = {row.resident_id for row in rows if row.resident_id is not None}
        if resident_ids and RESIDENT in load:
            found_residents = await session.scalars(
                select(Resident).where(Resident.id.in_(resident_ids)).options(raiseload("*"))
            )
            residents = {r.id: r for r in found_residents}
        return [
            DueTicket(
                id=row.id,
                estate_id=row.estate_id,
                number=row.number,
                kind=row.kind,
                version=row.version,
                emergency=row.emergency,
                description=row.description,
                claimed_at=row.claimed_at,
                claim_due_at=row.claim_due_at,
                on_site_due_at=row.on_site_due_at,
                resolve_due_at=row.resolve_due_at,
                department=departments[row.department_id],
                assignee=staff.get(row.assignee_id) if row.assignee_id is not None else None,
                resident=residents.get(row.resident_id) if row.resident_id is not None else None,
            )
            for row in rows
        ]

    async def _each(
        self,
        due: Any,
        due_before: datetime,
        statuses: Sequence[str],
        *conditions: ColumnElement[bool],
    ) -> AsyncIterator[int]:
        """The ids of the tickets due (``due <= due_before``), a status at a time (see ``_step``),
        oldest first, read a batch at a time past the last one seen (a ticket whose step failed
        is not read again in this sweep)."""
        started = time.monotonic()
        for status in statuses:
            after: tuple[datetime, int] | None = None
            while True:
                query = select(Ticket.id, due).where(
                    Ticket.status == status, due <= due_before, *conditions
                )
                if after is not None:
                    query = query.where(
                        (due > after[0]) | ((due == after[0]) & (Ticket.id > after[1]))
                    )
                async with self.transaction() as session:
                    rows = (
                        await session.execute(query.order_by(due, Ticket.id).limit(BATCH))
                    ).all()
                for row in rows:
                    yield row[0]
                if time.monotonic() - started > STEP_BUDGET:
                    return
                if len(rows) < BATCH:
                    break
                after = (rows[-1][1], rows[-1][0])

    async def _contexts(self) -> dict[int, EstateContext]:
        """Every estate's context, read once per sweep."""
        async with self.transaction() as session:
            estates = (await session.scalars(select(Estate).order_by(Estate.id))).all()
            return {estate.id: EstateContext.of(estate) for estate in estates}

    def _alert_managers(
        self, batch: OutboxRows, ticket: DueTicket, key: str, text: str, assign: bool
    ) -> None:
        chat = batch.ctx.managers_chat_id
        if chat is None:
            log.warning("estate %s has no managers chat: alert %s not delivered", batch.ctx.id, key)
            return
        _ = self.tr(batch.ctx.language)
        markup = (
            keyboards.inline(
                [
                    InlineKeyboardButton(
                        text=_("👤 Assign to…"),
                        callback_data=LeadAct(action="assign", ticket_id=ticket.id).pack(),
                    )
                ]
            )
            if assign
            else None
        )
        batch.to_chat(chat, key, text, ticket=ticket, markup=markup)
