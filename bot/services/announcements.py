"""Announcements: managers to residents, at Telegram's bulk rate, with a delivery report."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.base import Service
from bot.services.context import EstateContext
from bot.services.notify import OutboxRows, Outgoing
from bot.ui.format import h, local_time
from storage import repo
from storage.models import Announcement, Building, Estate, Flat, Outbox, Resident
from storage.outbox_repo import enqueue_many

KEY = "ann:{announcement}:{resident}"
RECENT = 5


@dataclass
class Draft:
    audience: str  # all, buildings, flats
    building_ids: list[int]
    flats: list[str]  # "A-101" (building code, flat label)
    text: str
    photo: str | None
    urgent: bool
    send_at: datetime | None


@dataclass
class Queued:
    ok: bool
    recipients: int = 0
    reason: str | None = None


@dataclass
class Report:
    delivered: int
    blocked: int
    failed: int
    pending: int


def _recipients(estate_id: int, draft: Draft, flat_ids: Sequence[int]) -> Select[Any]:
    query = select(Resident).where(
        Resident.estate_id == estate_id,
        Resident.status == "verified",
        Resident.telegram_id.is_not(None),
    )
    if draft.audience == "buildings":
        query = query.join(Flat, Flat.id == Resident.flat_id).where(
            Flat.building_id.in_(draft.building_ids)
        )
    elif draft.audience == "flats":
        query = query.where(Resident.flat_id.in_(flat_ids))
    return query.order_by(Resident.id)


class AnnouncementService(Service):
    async def can_announce(self, telegram_id: int) -> bool:
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            return staff is not None and staff.role in ("manager", "admin")

    async def timezone(self, telegram_id: int) -> str:
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            estate = await session.get(Estate, staff.estate_id) if staff is not None else None
            return estate.timezone if estate is not None else "UTC"

    async def buildings(self, telegram_id: int) -> list[tuple[int, str]]:
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            if staff is None:
                return []
            return [(b.id, b.name) for b in await repo.buildings(session, staff.estate_id)]

    async def resolve_flats(self, telegram_id: int, text: str) -> tuple[list[str], list[str]]:
        """Split "A-101, B-5" into known and unknown flats of the manager's estate."""
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            if staff is None:
                return [], []
            known: list[str] = []
            unknown: list[str] = []
            for raw in [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]:
                code, _, label = raw.partition("-")
                flat = await session.scalar(
                    select(Flat)
                    .join(Building)
                    .where(
                        Building.estate_id == staff.estate_id,
                        func.upper(Building.code) == code.strip().upper(),
                        func.upper(Flat.label) == label.strip().upper(),
                    )
                )
                (known if flat is not None else unknown).append(raw[:40])
            return known, unknown

    async def count(self, telegram_id: int, draft: Draft) -> int:
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            if staff is None:
                return 0
            flat_ids = await self._flat_ids(session, staff.estate_id, draft.flats)
            query = (
                _recipients(staff.estate_id, draft, flat_ids)
                .with_only_columns(func.count(Resident.id))
                .order_by(None)
            )
            return int(await session.scalar(query) or 0)

    async def queue(self, telegram_id: int, chat_id: int, draft: Draft) -> Queued:
        """One row per resident, in one transaction: a restart can neither lose nor double them."""
        async with self.transaction() as session:
            staff = await repo.staff_by_telegram(session, telegram_id)
            if staff is None or staff.role not in ("manager", "admin"):
                return Queued(False, reason="not_allowed")
            out = await self.outgoing(session, staff.estate_id)
            send_at = max(draft.send_at or out.now, out.now)
            if not draft.urgent:
                send_at = out.ctx.quiet.release_at(send_at)
            announcement = Announcement(
                estate_id=staff.estate_id,
                author_id=staff.id,
                author_chat_id=chat_id,
                text=draft.text,
                photo=draft.photo,
                urgent=draft.urgent,
                send_at=send_at,
                created_at=out.now,
                audience={
                    "type": draft.audience,
                    "buildings": draft.building_ids,
                    "flats": draft.flats,
                },
            )
            session.add(announcement)
            await session.flush()
            flat_ids = await self._flat_ids(session, staff.estate_id, draft.flats)
            recipients = _recipients(staff.estate_id, draft, flat_ids).with_only_columns(
                Resident.id, Resident.telegram_id, Resident.language
            )
            residents = (await session.execute(recipients)).all()
            texts: dict[str, str] = {}  # one rendering per language
            batch = OutboxRows(out.ctx, out.now)
            for resident in residents:
                text = texts.get(resident.language)
                if text is None:
                    text = texts[resident.language] = self._render(
                        resident.language, draft.text, draft.urgent
                    )
                batch.to_resident_chat(
                    resident.telegram_id,
                    resident.id,
                    KEY.format(announcement=announcement.id, resident=resident.id),
                    text,
                    urgent=True,  # quiet hours were applied to send_at above
                    photos=[draft.photo] if draft.photo else None,
                    not_before=send_at,
                )
            await enqueue_many(session, batch.rows)  # one batched INSERT, not a statement per row
            announcement.recipients = len(residents)
            return Queued(True, len(residents))

    async def report_finished(self) -> int:
        """Tell each author how their announcement went, once every message is settled."""
        async with self.transaction() as session:
            open_ = (
                await session.scalars(select(Announcement).where(Announcement.status == "queued"))
            ).all()
            reported = 0
            for announcement in open_:
                report = await self._report(session, announcement.id)
                if report.pending:
                    continue
                announcement.status, announcement.reported_at = "reported", self.deps.clock.now()
                estate = await session.get(Estate, announcement.estate_id)
                assert estate is not None
                out = Outgoing(session, EstateContext.of(estate), self.deps.clock.now())
                _ = self.tr(out.ctx.language)
                await out.to_chat(
                    announcement.author_chat_id,
                    f"ann-report:{announcement.id}",
                    _(
                        "📣 Announcement delivered: {delivered}; blocked the bot: {blocked}; failed: {failed}."
                    ).format(
                        delivered=report.delivered, blocked=report.blocked, failed=report.failed
                    ),
                )
                reported += 1
            return reported

    async def recent_for(self, telegram_id: int, locale: str) -> str:
        """/notices: the latest announcements that reached this resident."""
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            _ = self.tr(locale)
            if resident is None:
                return _("There are no announcements yet.")
            estate = await session.get(Estate, resident.estate_id)
            assert estate is not None
            keys = select(Outbox.key).where(
                Outbox.resident_id == resident.id, Outbox.key.like("ann:%"), Outbox.status == "sent"
            )
            ids = [int(key.split(":")[1]) for key in (await session.scalars(keys)).all()]
            rows = (
                await session.scalars(
                    select(Announcement)
                    .where(Announcement.id.in_(ids))
                    .order_by(Announcement.send_at.desc())
                    .limit(RECENT)
                )
            ).all()
            if not rows:
                return _("There are no announcements yet.")
            parts = [_("📣 <b>Recent announcements</b>")]
            parts += [
                f"\n<i>{local_time(a.send_at, estate.timezone)}</i>\n{h(a.text[:600])}"
                for a in rows
            ]
            return "\n".join(parts)

    async def _report(self, session: AsyncSession, announcement_id: int) -> Report:
        prefix = f"ann:{announcement_id}:%"
        blocked = and_(
            Outbox.status == "failed",
            or_(Outbox.last_error.like("%blocked%"), Outbox.last_error.like("%deactivated%")),
        )
        row = (
            await session.execute(
                select(
                    func.coalesce(func.sum(case((Outbox.status == "sent", 1), else_=0)), 0),
                    func.coalesce(func.sum(case((blocked, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((Outbox.status == "failed", 1), else_=0)), 0),
                    func.coalesce(func.sum(case((Outbox.status == "pending", 1), else_=0)), 0),
                ).where(Outbox.key.like(prefix))
            )
        ).one()
        delivered, blocked_count, failed, pending = (int(v) for v in row)
        return Report(delivered, blocked_count, failed - blocked_count, pending)

    def _render(self, locale: str, text: str, urgent: bool) -> str:
        _ = self.tr(locale)
        title = _("🚨 <b>Urgent announcement</b>") if urgent else _("📣 <b>Announcement</b>")
        return f"{title}\n\n{h(text)}"

    async def _flat_ids(
        self, session: AsyncSession, estate_id: int, flats: Sequence[str]
    ) -> list[int]:
        ids = []
        for raw in flats:
            code, _, label = raw.partition("-")
            flat_id = await session.scalar(
                select(Flat.id)
                .join(Building)
                .where(
                    Building.estate_id == estate_id,
                    func.upper(Building.code) == code.strip().upper(),
                    func.upper(Flat.label) == label.strip().upper(),
                )
            )
            if flat_id is not None:
                ids.append(int(flat_id))
        return ids
