"""The tables. Every deadline is a column, so a restart loses nothing."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.elapsed import whole_seconds
from bot.domain.lifecycle import FINAL_STATUSES, Status
from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), int: Integer()}


class Estate(Base):
    __tablename__ = "estates"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16), default="en")
    managers_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    customer_service_id: Mapped[int | None] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(default=0)


class Flat(Base):
    __tablename__ = "flats"
    __table_args__ = (UniqueConstraint("building_id", "label"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id"))
    label: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    building: Mapped[Building] = relationship(lazy="joined")


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (UniqueConstraint("estate_id", "code"), Index(None, "chat_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    chat_lost: Mapped[bool] = mapped_column(Boolean, default=False)


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    kind: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    hazard: Mapped[str | None] = mapped_column(String(16))
    simple: Mapped[bool] = mapped_column(Boolean, default=False)
    standard: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(default=0)

    def label(self, locale: str) -> str:
        value = self.names.get(locale)
        return value if isinstance(value, str) and value else self.name


class StaffDepartment(Base):
    __tablename__ = "staff_departments"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("estate_id", "telegram_id"), Index(None, "telegram_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(16))
    has_private_chat: Mapped[bool] = mapped_column(Boolean, default=False)
    departments: Mapped[list[Department]] = relationship(
        secondary="staff_departments", lazy="selectin"
    )


class RegistryEntry(Base):
    """The management company's list of residents, matched by phone at sign-up."""

    __tablename__ = "registry"
    __table_args__ = (UniqueConstraint("estate_id", "phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flats.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Resident(Base):
    __tablename__ = "residents"
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    flat_id: Mapped[int | None] = mapped_column(ForeignKey("flats.id"))
    status: Mapped[str] = mapped_column(String(16), default="unverified")
    language: Mapped[str] = mapped_column(String(16), default="en")
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    flat: Mapped[Flat | None] = relationship(lazy="joined")


class Verification(Base):
    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flats.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resident: Mapped[Resident] = relationship(lazy="joined")
    flat: Mapped[Flat] = relationship(lazy="joined")


class TicketCounter(Base):
    __tablename__ = "ticket_counters"
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


OPEN_STATUSES = [s.value for s in Status if s not in FINAL_STATUSES]
# What the open-requests index covers (overdue counts and lists read only these), and the
# condition a query repeats, rendered with the same literal values, for SQLite and PostgreSQL to
# see that the partial index holds every row it wants (``storage.repo.IS_OPEN``).
OPEN_CONDITION = "status IN (" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"
OPEN_REQUEST_READS = [
    "estate_id",
    "status",
    "claim_due_at",
    "on_site_due_at",
    "on_site_at",
    "resolve_due_at",
    "department_id",
]

# The columns of a request that queueing its claim reminder reads beyond the index's own
# (bot/services/marked_step.py): the estate, the department (its group) and the claim deadline.
CLAIM_REMINDER_READS = ["estate_id", "department_id", "claim_due_at"]


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("estate_id", "kind", "seq"),
        Index(None, "resident_id", "created_at"),
        Index(None, "status", "claim_due_at"),
        # The clock's steps: each finds its due rows by status and deadline (bot/services/clock.py).
        # Claim reminders go in (reminder time, id) order: with the id in the index a batch reads
        # only its own rows (PostgreSQL otherwise sorts every due row for each batch). On
        # PostgreSQL the index also carries what queueing a reminder reads, so a batch reads no
        # request's row (an index-only scan where the pages are all-visible).
        Index(
            "ix_tickets_status_claim_remind_at",
            "status",
            "claim_remind_at",
            "id",
            postgresql_include=CLAIM_REMINDER_READS,
        ),
        Index("ix_tickets_status_on_site_due_at", "status", "on_site_due_at"),
        Index("ix_tickets_status_resolve_due_at", "status", "resolve_due_at"),
        Index("ix_tickets_status_resolved_at", "status", "resolved_at"),
        Index("ix_tickets_status_hold_until", "status", "hold_until"),
        # The requests of a period (/stats, /report, /export).
        Index("ix_tickets_estate_id_created_at", "estate_id", "created_at"),
        # The open requests of an estate, and what overdue counts read of them: a partial index,
        # so its size is the open requests' whatever the history.
        Index(
            "ix_tickets_open",
            *OPEN_REQUEST_READS,
            sqlite_where=text(OPEN_CONDITION),
            postgresql_where=text(OPEN_CONDITION),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int]
    number: Mapped[str] = mapped_column(String(16))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    flat_id: Mapped[int | None] = mapped_column(ForeignKey("flats.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"))
    place: Mapped[str] = mapped_column(String(16), default="flat")
    place_text: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=0)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    on_site_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    claim_remind_at: Mapped[datetime | None]
    claim_due_at: Mapped[datetime | None]
    on_site_due_at: Mapped[datetime | None]
    resolve_due_at: Mapped[datetime | None]
    # How long each step took from registration, in whole seconds (bot.domain.elapsed), written
    # with the step's time (``step_seconds``): the managers' figures read these instead of
    # computing them from two timestamps per request.
    claim_seconds: Mapped[int | None]
    on_site_seconds: Mapped[int | None]
    resolve_seconds: Mapped[int | None]
    # The escalation ladder: each level happens once; the column records when. (Claim reminders
    # are recorded by a mark, not per request: see ClockMark.)
    claim_overdue_at: Mapped[datetime | None]
    on_site_overdue_at: Mapped[datetime | None]
    resolve_overdue_at: Mapped[datetime | None]
    technician_reminded_at: Mapped[datetime | None]
    confirm_reminded_at: Mapped[datetime | None]
    hold_until: Mapped[datetime | None]
    hold_reason: Mapped[str | None] = mapped_column(Text)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    answer_text: Mapped[str | None] = mapped_column(Text)
    message_count: Mapped[int] = mapped_column(default=0)
    photo_count: Mapped[int] = mapped_column(default=0)
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_thread_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger)
    category: Mapped[Category | None] = relationship(lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")
    flat: Mapped[Flat | None] = relationship(lazy="joined")
    assignee: Mapped[Staff | None] = relationship(lazy="joined")
    resident: Mapped[Resident | None] = relationship(lazy="joined")


# Each step's time and the column of how long the step took.
STEP_SECONDS = {
    "claimed_at": "claim_seconds",
    "on_site_at": "on_site_seconds",
    "resolved_at": "resolve_seconds",
}


def step_seconds(created_at: datetime, times: Mapping[str, Any]) -> dict[str, int | None]:
    """The duration column of each step time among ``times`` (``None`` where it is cleared), to
    write with it."""
    return {
        STEP_SECONDS[name]: None if at is None else whole_seconds(created_at, at)
        for name, at in times.items()
        if name in STEP_SECONDS
    }


@event.listens_for(Ticket, "before_insert")
@event.listens_for(Ticket, "before_update")
def _step_seconds_on_flush(_mapper: Any, _connection: Any, ticket: Ticket) -> None:
    """Requests written through the session (registration, fixtures) get their durations like
    the transitions' ``UPDATE``, which adds ``step_seconds`` itself."""
    state = inspect(ticket)
    created_changed = state.attrs["created_at"].history.has_changes()
    changed = {
        name: state.dict.get(name)
        for name in STEP_SECONDS
        if created_changed or state.attrs[name].history.has_changes()
    }
    created_at = state.dict.get("created_at")
    if changed and created_at is not None:
        for column, seconds in step_seconds(created_at, changed).items():
            setattr(ticket, column, seconds)


class TicketPhoto(Base):
    __tablename__ = "ticket_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    file_id: Mapped[str] = mapped_column(String(256))
    stage: Mapped[str] = mapped_column(String(16), default="report")
    created_at: Mapped[datetime]


class TicketEvent(Base):
    """The audit trail: who did what, when, from which status to which."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime]
    event: Mapped[str] = mapped_column(String(32))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None]
    actor_name: Mapped[str | None] = mapped_column(String(200))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)


class MessageLink(Base):
    """Which ticket a message in a chat is about, so replies to it find their ticket."""

    __tablename__ = "message_links"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)


class Outbox(Base):
    """Messages the bot owes someone; written in the transaction that caused them."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at"), Index(None, "chat_id", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # The estate, request and resident a message concerns, without foreign keys: a row is queued
    # in the transaction that wrote what it refers to, and on PostgreSQL a foreign-key check locks
    # the row it points at (FOR KEY SHARE), which doubled the cost of queueing a sweep's
    # reminders and made every message of an estate touch the estate's row.
    estate_id: Mapped[int | None]
    chat_id: Mapped[int] = mapped_column(BigInteger)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ticket_id: Mapped[int | None]
    resident_id: Mapped[int | None]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class ClockMark(Base):
    """How far a clock step that writes nothing on the requests has got: every request due for
    it up to (``done_at``, ``done_id``), in the order (due time, id), has been done."""

    __tablename__ = "clock_marks"
    step: Mapped[str] = mapped_column(String(32), primary_key=True)
    done_at: Mapped[datetime | None]
    done_id: Mapped[int | None]


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]


class FsmRecord(Base):
    __tablename__ = "fsm_states"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Invitation(Base):
    """A single-use deep link that verifies whoever opens it to one flat."""

    __tablename__ = "invitations"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flats.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))


class Poll(Base):
    """The satisfaction poll after a closed repair or an answered complaint."""

    __tablename__ = "polls"
    __table_args__ = (
        Index(None, "status", "remind_at"),
        Index("ix_polls_answered_at", "answered_at"),  # /stats: polls answered in a period
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, answered, expired
    step: Mapped[str] = mapped_column(String(16), default="overall")
    created_at: Mapped[datetime]
    remind_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    overall: Mapped[int | None]
    attitude: Mapped[int | None]
    quality: Mapped[int | None]
    timeliness: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Text)
    ticket: Mapped[Ticket] = relationship(lazy="joined")


class Callback(Base):
    """A call owed to a resident: 48 h after every repair, or a same-day follow-up."""

    __tablename__ = "callbacks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "reason"),
        Index(None, "done_at", "due_at"),
        Index("ix_callbacks_reason_due_at", "reason", "due_at"),  # /stats: due in a period
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    reason: Mapped[str] = mapped_column(String(16))  # after_repair, follow_up
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_via: Mapped[str | None] = mapped_column(String(16))  # poll, staff
    done_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    ticket: Mapped[Ticket] = relationship(lazy="joined")


class Announcement(Base):
    """A notice from the managers to all residents, some buildings, or some flats."""

    __tablename__ = "announcements"
    __table_args__ = (Index(None, "estate_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    author_chat_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Text)
    photo: Mapped[str | None] = mapped_column(String(256))
    audience: Mapped[dict[str, Any]] = mapped_column(default=dict)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    send_at: Mapped[datetime]
    created_at: Mapped[datetime]
    recipients: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, reported
    reported_at: Mapped[datetime | None]
