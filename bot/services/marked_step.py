"""A clock step that writes nothing on the requests: a mark in ``clock_marks`` records how far it
has got, in the order (due time, id), and each batch moves it on.

A batch is the next ``size`` requests of the step's status due by now past the mark. It is
found as its last row (one index read, ``OFFSET``), and its messages are queued with one
``INSERT … SELECT`` over the range between the mark and that row, with the mark moved to the row
in the same transaction. Every statement is built once, with scalar parameters: no list of ids
goes to the database and no due time comes back but the batch's last.

A request is due for such a step once: its due time is set when it is registered and never
moves back, so a request the mark has passed is never due again. One that was not of the status
when the mark passed it (claimed, say, and later released) is not done later.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    String,
    Table,
    bindparam,
    literal,
    select,
    text,
    true,
)
from sqlalchemy import cast as cast_
from sqlalchemy.ext.asyncio import AsyncSession

from storage import clock_marks, outbox_repo
from storage.clock_marks import Mark
from storage.dialects import dialect_of, per_dialect
from storage.models import Department, Outbox, Ticket

TICKETS = cast(Table, Ticket.__table__)
DEPARTMENTS = cast(Table, Department.__table__)
ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")
BEFORE_ALL = Mark(datetime(1970, 1, 1, tzinfo=UTC), 0)  # where a step starts


@dataclass(frozen=True)
class QueuedInSql:
    """A clock message queued by the database and written when it is sent: its outbox key
    is ``key_prefix + ticket id + key_suffix``; the sender asks ``ClockService.render`` for
    ``payload["render"]``."""

    template: str
    key_prefix: str
    key_suffix: str
    reply_to_card: bool = True

    @property
    def payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {"render": self.template}
        if self.reply_to_card:
            payload["reply_to_card"] = True
        return payload


def _after(due: Column[Any], at: str, id_: str) -> ColumnElement[bool]:
    """(due, id) > (:at, :id), as a range of the (status, due, id) index and a filter on ties."""
    return (due >= bindparam(at, type_=due.type)) & (
        (due > bindparam(at, type_=due.type)) | (TICKETS.c.id > bindparam(id_))
    )


def _up_to(due: Column[Any], at: str, id_: str) -> ColumnElement[bool]:
    """(due, id) <= (:at, :id)."""
    return (due <= bindparam(at, type_=due.type)) & (
        (due < bindparam(at, type_=due.type)) | (TICKETS.c.id <= bindparam(id_))
    )


class MarkedStep:
    """One such step: the requests of ``status`` whose ``due`` column has passed get
    ``message`` in their department group, except those matching ``unless`` (a condition on the
    tickets table with a ``:now`` parameter), which the mark passes over without one."""

    def __init__(
        self,
        name: str,
        due: Column[Any],
        status: str,
        message: QueuedInSql,
        unless: ColumnElement[bool],
    ) -> None:
        self.name = name
        self.status = status
        self.message = message
        due_rows = select(due.label("due"), TICKETS.c.id).where(
            TICKETS.c.status == bindparam("status"),
            due <= bindparam("now", type_=due.type),
            _after(due, "after_at", "after_id"),
        )
        self._nth = due_rows.order_by(due, TICKETS.c.id).offset(bindparam("skip")).limit(1)
        self._last = due_rows.order_by(due.desc(), TICKETS.c.id.desc()).limit(1)
        rows: Select[Any] = (
            select(
                (
                    literal(message.key_prefix)
                    + cast_(TICKETS.c.id, String)
                    + literal(message.key_suffix)
                ).label("key"),
                TICKETS.c.estate_id,
                DEPARTMENTS.c.chat_id,
                DEPARTMENTS.c.thread_id,
                literal("send").label("op"),
                literal(message.payload, Outbox.__table__.c.payload.type).label("payload"),
                TICKETS.c.id.label("ticket_id"),
                true().label("urgent"),
            )
            .join(DEPARTMENTS, DEPARTMENTS.c.id == TICKETS.c.department_id)
            .where(
                TICKETS.c.status == bindparam("status"),
                _after(due, "after_at", "after_id"),
                _up_to(due, "end_at", "end_id"),
                DEPARTMENTS.c.chat_id.is_not(None),
                ~unless,
            )
            .order_by(due, TICKETS.c.id)
        )
        self._queue = per_dialect(lambda insert: outbox_repo.enqueue_select(insert, rows))

    async def run_batch(self, session: AsyncSession, now: datetime, size: int) -> tuple[bool, int]:
        """Hold the mark, queue the next batch of up to ``size`` requests and move the mark to
        its last: (whether more may be due, messages queued)."""
        dialect = dialect_of(session)
        if dialect == "postgresql":
            # The commit need not wait for the disk: if the server crashes before it gets there,
            # the batch and the mark are lost together and the next sweep queues it again. The
            # sender leases a message with a commit that does wait, and so flushes this one,
            # before it sends anything.
            await session.execute(ASYNC_COMMIT)
        after = await clock_marks.hold(session, self.name)
        if after.at is None:
            after = BEFORE_ALL
        params: dict[str, Any] = {
            "status": self.status,
            "now": now,
            "after_at": after.at,
            "after_id": after.id,
        }
        end = (await session.execute(self._nth, {**params, "skip": size - 1})).first()
        more = end is not None
        if end is None:  # fewer than a batch are due: take them all
            end = (await session.execute(self._last, params)).first()
            if end is None:
                return False, 0
        queued = await outbox_repo.enqueue_selected(
            session,
            self._queue[dialect],
            {**params, "end_at": end.due, "end_id": end.id, "queued_at": now},
        )
        await clock_marks.advance(session, self.name, Mark(end.due, end.id))
        return more, queued
