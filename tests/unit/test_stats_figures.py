"""/stats figures against a hand-computed quarter, on SQLite and PostgreSQL.

The quarter is Q4 2026 in Europe/London: it starts at 2026-09-30 23:00 UTC (BST), ends at
2027-01-01 00:00 UTC (GMT), and contains the clock change of 2026-10-25 and the holiday of
2026-12-25. Deadlines are computed by the real calendar from the test estate's standards, so
the holiday and the clock change shape them as they would in production.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.domain.clock import FakeClock
from bot.domain.deadlines import compute_deadlines
from bot.domain.kinds import TicketKind, format_number
from bot.estate import parse_estate
from bot.i18n import Translator, make_i18n
from bot.services.base import ServiceDeps
from bot.services.context import EstateContext
from bot.services.estate_apply import EstateApplier
from bot.services.reports import per_day
from bot.services.stats import StatsService, compute, make_period, parse_period
from storage.dialects import dialect_of
from storage.engine import make_sessionmaker
from storage.models import (
    Building,
    Callback,
    Category,
    Estate,
    Flat,
    Outbox,
    Poll,
    Resident,
    Ticket,
)

ESTATE = Path(__file__).resolve().parents[1] / "e2e" / "estate.toml"
NOW = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
Q4 = "2026-10-01..2026-12-31"
OTHER_ESTATE = (
    ESTATE.read_text()
    .replace('slug = "test-court"', 'slug = "other-court"')
    .replace('name = "Test Court"', 'name = "Other Court"')
    .replace("managers_chat_id = -1009", "managers_chat_id = -2009")
    .replace("chat_id = -1001", "chat_id = -2001")
    .replace("chat_id = -1002", "chat_id = -2002")
    .replace("chat_id = -1003", "chat_id = -2003")
    .replace("telegram_id = 10", "telegram_id = 30")
    .replace('name = "Mia Grant"', 'name = "Oscar Hale"')
    .replace("+44 7700 9000", "+44 7700 9100")
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def deps_for(engine: AsyncEngine, now: datetime = NOW) -> ServiceDeps:
    return ServiceDeps(make_sessionmaker(engine), FakeClock(now), Translator(make_i18n()))


@dataclass
class Seeded:
    estate_id: int
    other_estate_id: int
    tickets: dict[str, int]


async def apply_estates(deps: ServiceDeps) -> None:
    await EstateApplier(deps).apply(parse_estate(ESTATE.read_text(), str(ESTATE), ESTATE.parent))
    await EstateApplier(deps).apply(parse_estate(OTHER_ESTATE, str(ESTATE), ESTATE.parent))


class _Seeder:
    def __init__(self, session: AsyncSession, estate: Estate) -> None:
        self.session = session
        self.estate = estate
        self.ctx = EstateContext.of(estate)
        self.seq: dict[str, int] = {}

    async def category(self, code: str) -> Category:
        found = await self.session.scalar(
            select(Category).where(Category.estate_id == self.estate.id, Category.code == code)
        )
        assert found is not None
        return found

    async def flat(self, building: str, label: str) -> Flat:
        found = await self.session.scalar(
            select(Flat)
            .join(Building, Building.id == Flat.building_id)
            .where(
                Building.estate_id == self.estate.id, Building.code == building, Flat.label == label
            )
        )
        assert found is not None
        return found

    async def resident(self, name: str, building: str, label: str) -> Resident:
        flat = await self.flat(building, label)
        resident = Resident(
            estate_id=self.estate.id,
            name=name,
            phone=None,
            flat_id=flat.id,
            status="verified",
            created_at=utc(2026, 1, 1),
        )
        self.session.add(resident)
        await self.session.flush()
        return resident

    async def ticket(
        self,
        kind: TicketKind,
        category: str | None,
        resident: Resident,
        created: datetime,
        status: str,
        **moments: datetime,
    ) -> Ticket:
        cat = await self.category(category) if category else None
        emergency = bool(cat and cat.emergency)
        deadlines = compute_deadlines(
            created, self.ctx.standard_for(kind, emergency, cat), self.ctx.calendar
        )
        department_id = cat.department_id if cat else self.ctx.customer_service_id
        assert department_id is not None and resident.flat_id is not None
        flat = await self.session.get(Flat, resident.flat_id)
        assert flat is not None
        seq = self.seq[kind.value] = self.seq.get(kind.value, 0) + 1
        ticket = Ticket(
            estate_id=self.estate.id,
            kind=kind.value,
            seq=seq,
            number=format_number(kind, seq),
            category_id=cat.id if cat else None,
            department_id=department_id,
            resident_id=resident.id,
            flat_id=flat.id,
            building_id=flat.building_id,
            description="seeded",
            emergency=emergency,
            status=status,
            version=1,
            created_at=created,
            claim_remind_at=deadlines.claim_remind_at,
            claim_due_at=deadlines.claim_due,
            on_site_due_at=deadlines.on_site_due,
            resolve_due_at=deadlines.resolve_due,
            **moments,
        )
        self.session.add(ticket)
        await self.session.flush()
        return ticket


async def seed_quarter(sessions: async_sessionmaker[AsyncSession]) -> Seeded:
    """Twelve requests in Q4 2026 (T1..T12), two just outside it, one in another estate,
    with polls, callbacks and outbox rows around them. The expected figures are worked out by
    hand in ``test_quarter_figures``."""
    R, C, Q, S = TicketKind.REPAIR, TicketKind.COMPLAINT, TicketKind.QUESTION, TicketKind.SUGGESTION
    async with sessions.begin() as session:
        estate = await session.scalar(select(Estate).where(Estate.slug == "test-court"))
        other = await session.scalar(select(Estate).where(Estate.slug == "other-court"))
        assert estate is not None and other is not None
        s = _Seeder(session, estate)
        alice = await s.resident("Alice Brown", "A", "101")
        bo = await s.resident("Bo Chen", "A", "102")
        cy = await s.resident("Cy Park", "B", "5")
        di = await s.resident("Di Moss", "B", "7")
        eli = await s.resident("Eli Nash", "A", "201")
        fay = await s.resident("Fay Ortiz", "A", "202")
        m = timedelta(minutes=1)
        t: dict[str, Ticket] = {}
        # X1: one second before the quarter (23:59:59 BST on 30 September): outside.
        t["X1"] = await s.ticket(
            R,
            "leak",
            alice,
            utc(2026, 9, 30, 22, 59, 59),
            "closed",
            claimed_at=utc(2026, 9, 30, 23, 5),
            resolved_at=utc(2026, 9, 30, 23, 30),
            closed_at=utc(2026, 10, 1, 8),
        )
        # T1: the first instant of the quarter (00:00 BST on 1 October).
        c1 = utc(2026, 9, 30, 23, 0)
        t["T1"] = await s.ticket(
            R,
            "leak",
            alice,
            c1,
            "closed",
            claimed_at=c1 + 10 * m,
            on_site_at=c1 + 40 * m,
            resolved_at=c1 + 100 * m,
            closed_at=c1 + 300 * m,
        )
        # T2: 00:30 BST on 25 October, worked across the clock change (emergency).
        c2 = utc(2026, 10, 24, 23, 30)
        t["T2"] = await s.ticket(
            R,
            "flood",
            bo,
            c2,
            "closed",
            claimed_at=c2 + 63 * m,
            on_site_at=c2 + 110 * m,
            resolved_at=c2 + 180 * m,
            closed_at=c2 + 600 * m,
        )
        # T3: 23:30 GMT on 25 October; resolved after 80 h (standard 72 h), not yet confirmed.
        c3 = utc(2026, 10, 25, 23, 30)
        t["T3"] = await s.ticket(
            R,
            "light",
            cy,
            c3,
            "resolved",
            claimed_at=c3 + 20 * m,
            resolved_at=c3 + timedelta(hours=80),
        )
        # T4: complaint at 23:30 BST on Saturday 24 October.
        c4 = utc(2026, 10, 24, 22, 30)
        t["T4"] = await s.ticket(
            C,
            "noise",
            alice,
            c4,
            "closed",
            claimed_at=utc(2026, 10, 26, 9, 30),
            resolved_at=utc(2026, 10, 29, 12),
            closed_at=utc(2026, 10, 30, 12),
        )
        # T5: cancelled ten minutes after filing, before any deadline.
        c5 = utc(2026, 10, 26, 0, 10)
        t["T5"] = await s.ticket(R, "leak", cy, c5, "cancelled", closed_at=c5 + 10 * m)
        # T6: claimed late, on site, still in progress long after its resolve deadline.
        c6 = utc(2026, 11, 10, 10)
        t["T6"] = await s.ticket(
            R,
            "light",
            eli,
            c6,
            "in_progress",
            claimed_at=c6 + 45 * m,
            on_site_at=c6 + 120 * m,
            started_at=c6 + 120 * m,
        )
        # T7: never taken.
        t["T7"] = await s.ticket(R, "leak", fay, utc(2026, 12, 1, 9), "new")
        # T8: complaint on Thursday 24 December; four working days skip Christmas and the weekend.
        c8 = utc(2026, 12, 24, 10)
        t["T8"] = await s.ticket(
            C,
            "noise",
            alice,
            c8,
            "answered",
            claimed_at=c8 + 60 * m,
            resolved_at=utc(2026, 12, 30, 15),
        )
        # T9: question at 17:00 BST on Friday 23 October; one working day = Monday 17:00 GMT.
        c9 = utc(2026, 10, 23, 16)
        t["T9"] = await s.ticket(
            Q,
            "general_question",
            di,
            c9,
            "closed",
            claimed_at=utc(2026, 10, 26, 16),
            resolved_at=utc(2026, 10, 27, 10),
            closed_at=utc(2026, 10, 28, 10),
        )
        # T10: an emergency handled within every standard.
        c10 = utc(2026, 11, 20, 14)
        t["T10"] = await s.ticket(
            R,
            "gas",
            di,
            c10,
            "closed",
            claimed_at=c10 + 3 * m,
            on_site_at=c10 + 12 * m,
            resolved_at=c10 + 180 * m,
            closed_at=c10 + 600 * m,
        )
        # T11: rejected an hour after filing, after its claim deadline.
        c11 = utc(2026, 11, 5, 8)
        t["T11"] = await s.ticket(R, "leak", bo, c11, "rejected", closed_at=c11 + 60 * m)
        # T12: a suggestion one second before the quarter ends (23:59:59 GMT, 31 December).
        t["T12"] = await s.ticket(S, None, cy, utc(2026, 12, 31, 23, 59, 59), "new")
        # X2: the first instant after the quarter: outside, but open and overdue now.
        t["X2"] = await s.ticket(R, "leak", fay, utc(2027, 1, 1, 0, 0), "new")

        polls = [
            ("T1", 5, utc(2026, 10, 2)),
            ("T2", 3, utc(2026, 10, 26)),
            ("T10", 4, utc(2026, 11, 21)),
            ("T4", 1, utc(2026, 10, 31)),
            ("X1", 5, utc(2026, 9, 30, 22)),
            ("T8", 5, utc(2027, 1, 2)),
        ]
        for key, overall, answered in polls:
            session.add(
                Poll(
                    ticket_id=t[key].id,
                    resident_id=t[key].resident_id,
                    status="answered",
                    step="attitude",
                    created_at=answered - timedelta(hours=1),
                    expires_at=answered + timedelta(days=7),
                    answered_at=answered,
                    overall=overall,
                )
            )
        session.add(
            Poll(
                ticket_id=t["T3"].id,
                resident_id=cy.id,
                created_at=utc(2026, 11, 1),
                expires_at=utc(2026, 11, 8),
            )
        )
        callbacks = [
            ("T1", "after_repair", utc(2026, 10, 3, 1), utc(2026, 10, 2, 10)),
            ("T2", "after_repair", utc(2026, 10, 27, 2, 30), utc(2026, 10, 28)),
            ("T10", "after_repair", utc(2026, 11, 22, 17), None),
            ("T3", "after_repair", utc(2026, 10, 31, 7, 30), utc(2026, 10, 31, 7, 30)),
            ("T2", "follow_up", utc(2026, 10, 27), None),
            ("X1", "after_repair", utc(2026, 9, 30, 12), None),
            ("T8", "after_repair", utc(2027, 1, 6), None),
        ]
        for key, reason, due, done in callbacks:
            session.add(
                Callback(
                    ticket_id=t[key].id,
                    reason=reason,
                    created_at=due - timedelta(days=2),
                    due_at=due,
                    done_at=done,
                )
            )
        outbox = [
            (estate.id, t["T2"].id, "failed", utc(2026, 11, 1)),
            (estate.id, None, "failed", utc(2026, 12, 15)),
            (estate.id, None, "sent", utc(2026, 11, 2)),
            (estate.id, None, "failed", utc(2027, 1, 2)),
            (other.id, None, "failed", utc(2026, 11, 3)),
        ]
        for index, (estate_id, ticket_id, status, created) in enumerate(outbox):
            session.add(
                Outbox(
                    key=f"seed:{index}",
                    estate_id=estate_id,
                    chat_id=-1009,
                    op="send",
                    payload={"text": "x"},
                    ticket_id=ticket_id,
                    status=status,
                    next_attempt_at=created,
                    created_at=created,
                )
            )
        # Another estate's request in the same quarter: never counted for Test Court.
        o = _Seeder(session, other)
        stranger = await o.resident("Olga Stone", "A", "101")
        await o.ticket(C, "noise", stranger, utc(2026, 11, 1, 12), "new")
        return Seeded(estate.id, other.id, {k: v.id for k, v in t.items()})


def interpolated(values: Sequence[float], p: float) -> float:
    """The reference definition (percentile_cont): linear between closest ranks."""
    ordered = sorted(values)
    pos = p * (len(ordered) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] if lo == hi else ordered[lo] + (pos - lo) * (ordered[hi] - ordered[lo])


CLAIM = [600, 3780, 1200, 126000, 2700, 3600, 259200, 180]
ON_SITE = [2400, 6600, 7200, 720]
RESOLVE = [6000, 10800, 288000, 394200, 536400, 324000, 10800]


@pytest.fixture
async def seeded(engine: AsyncEngine) -> tuple[ServiceDeps, Seeded]:
    deps = deps_for(engine)
    await apply_estates(deps)
    return deps, await seed_quarter(deps.sessions)


async def figures_for(
    deps: ServiceDeps, estate_id: int, words: str, department: str | None = None
) -> Any:
    async with deps.sessions() as session:
        period = parse_period(words, NOW, "Europe/London")
        assert period is not None
        department_id = None
        if department:
            from bot.services.stats import department_by_code

            found = await department_by_code(session, estate_id, department)
            assert found is not None
            department_id = found.id
        return await compute(session, estate_id, period, NOW, department_id=department_id)


async def test_the_holiday_and_the_clock_change_shape_the_deadlines(
    seeded: tuple[ServiceDeps, Seeded],
) -> None:
    deps, data = seeded
    async with deps.sessions() as session:
        t8 = await session.get(Ticket, data.tickets["T8"])
        t9 = await session.get(Ticket, data.tickets["T9"])
        t4 = await session.get(Ticket, data.tickets["T4"])
        assert t8 is not None and t9 is not None and t4 is not None
        # Thu 24 Dec + 4 working days: Fri 25 (holiday), the weekend, then Mon-Thu: 31 Dec.
        assert t8.resolve_due_at == utc(2026, 12, 31, 10)
        # Fri 23 Oct 17:00 BST + 1 working day = Mon 26 Oct 17:00 GMT (same wall clock).
        assert t9.claim_due_at == utc(2026, 10, 26, 17)
        # Sat 24 Oct 23:30 BST rolls to Mon 09:00 GMT, + 4 working days = Fri 30 Oct 09:00.
        assert t4.resolve_due_at == utc(2026, 10, 30, 9)


async def test_quarter_figures(seeded: tuple[ServiceDeps, Seeded]) -> None:
    deps, data = seeded
    f = await figures_for(deps, data.estate_id, Q4)
    assert (f.period.start, f.period.end) == (utc(2026, 9, 30, 23), utc(2027, 1, 1))
    assert f.total == 12
    assert f.by_kind == [("repair", 8), ("complaint", 2), ("question", 1), ("suggestion", 1)]
    assert f.by_category == [
        ("Leaking tap", 4),
        ("Light out", 2),
        ("Noise", 2),
        ("Flooding", 1),
        ("Gas smell", 1),
        ("General question", 1),
        ("—", 1),
    ]
    assert f.by_department == [("Plumbing", 6), ("Customer service", 4), ("Electrical", 2)]
    assert f.by_building == [("Block A", 7), ("Block B", 5)]

    for name, values in (("claim", CLAIM), ("on_site", ON_SITE), ("resolve", RESOLVE)):
        timing = f.timings[name]
        assert timing.count == len(values)
        # Exactly the reference definition, bit for bit, on either database.
        assert timing.median == interpolated(values, 0.5), name
        assert timing.p90 == interpolated(values, 0.9), name
    assert f.timings["claim"].median == 3150.0  # (2700 + 3600) / 2
    assert f.timings["claim"].p90 == pytest.approx(165960.0)  # 126000 + 0.3 × 133200
    assert f.timings["on_site"].median == 4500.0
    assert f.timings["on_site"].p90 == pytest.approx(7020.0)
    assert f.timings["resolve"].median == 288000.0
    assert f.timings["resolve"].p90 == pytest.approx(451080.0)

    # claim: met T1 T3 T8 T9 T10; missed T2 T4 T6 T7 T11 T12; T5 cancelled before its deadline
    assert (f.within["claim"].hits, f.within["claim"].total) == (5, 11)
    assert (f.within["on_site"].hits, f.within["on_site"].total) == (1, 2)  # T10 yes, T2 no
    # resolve: met T1 T2 T4 T8 (thanks to the holiday) T9 T10; missed T3 T6 T7
    assert (f.within["resolve"].hits, f.within["resolve"].total) == (6, 9)
    assert f.overdue_now == 4  # T6, T7, T12 and X2 (overdue is "now", not "in the period")
    assert (f.satisfaction.hits, f.satisfaction.total) == (2, 4)
    assert (f.callbacks.hits, f.callbacks.total) == (2, 4)
    assert (f.complaints, f.flats) == (2, 40)
    assert f.complaints_per_100_flats == 5.0
    assert f.failed_messages == 2


async def test_one_department(seeded: tuple[ServiceDeps, Seeded]) -> None:
    deps, data = seeded
    f = await figures_for(deps, data.estate_id, Q4, "plumbing")
    assert f.total == 6 and f.by_kind == [("repair", 6)]
    assert f.timings["claim"].count == 3
    assert f.timings["claim"].median == 600.0
    assert f.timings["claim"].p90 == interpolated([180, 600, 3780], 0.9)
    assert (f.within["claim"].hits, f.within["claim"].total) == (2, 5)
    assert (f.within["on_site"].hits, f.within["on_site"].total) == (1, 2)
    assert (f.within["resolve"].hits, f.within["resolve"].total) == (3, 4)
    assert f.overdue_now == 2
    assert (f.satisfaction.hits, f.satisfaction.total) == (2, 3)
    assert (f.callbacks.hits, f.callbacks.total) == (1, 3)
    assert f.complaints == 0 and f.failed_messages == 1


async def test_the_long_day_of_the_clock_change(seeded: tuple[ServiceDeps, Seeded]) -> None:
    deps, data = seeded
    f = await figures_for(deps, data.estate_id, "2026-10-25..2026-10-25")
    assert f.period.end - f.period.start == timedelta(hours=25)
    assert f.total == 2  # T2 at 00:30 BST and T3 at 23:30 GMT; not T4 (24th) nor T5 (26th)
    assert f.by_category == [("Flooding", 1), ("Light out", 1)]
    async with deps.sessions() as session:
        period = make_period(date(2026, 10, 24), date(2026, 10, 26), "Europe/London")
        from bot.services.stats import cohort

        days = await per_day(
            session, cohort(data.estate_id, period, None), period, dialect_of(session)
        )
    assert days == {
        date(2026, 10, 24): {"complaint": 1},
        date(2026, 10, 25): {"repair": 2},
        date(2026, 10, 26): {"repair": 1},
    }


async def test_the_other_estate_sees_only_its_own(seeded: tuple[ServiceDeps, Seeded]) -> None:
    deps, data = seeded
    f = await figures_for(deps, data.other_estate_id, Q4)
    assert f.total == 1 and f.by_kind == [("complaint", 1)]
    assert f.overdue_now == 1 and f.failed_messages == 1
    assert f.satisfaction.total == 0 and f.callbacks.total == 0


async def test_stats_text(seeded: tuple[ServiceDeps, Seeded]) -> None:
    deps, data = seeded
    parts = await StatsService(deps).stats(data.estate_id, Q4, "en")
    text = re.sub(r"</?[a-z]+>", "", "\n".join(parts))
    expected = [
        "Statistics · Test Court · 2026-10-01 – 2026-12-31",
        "Requests registered: 12",
        "• 🔧 Repair: 8",
        "• Leaking tap: 4",
        "• (none): 1",
        "• Plumbing: 6",
        "• Block A: 7",
        "• to claim: 53 min / 1 d 22 h (requests: 8)",
        "• to arrive on site: 1 h 15 min / 1 h 57 min (requests: 4)",
        "• to resolve: 3 d 8 h / 5 d 5 h (requests: 7)",
        "• claimed in time: 45% (5 of 11)",
        "• on site in time: 50% (1 of 2)",
        "• resolved in time: 67% (6 of 9)",
        "Overdue now: 4",
        "Satisfaction (4–5 of 5): 50% (2 of 4), target 95%",
        "Callbacks within 48 h: 50% (2 of 4), target 100%",
        "Complaints per 100 flats: 5.0 (complaints: 2, flats: 40)",
        "Messages given up by the outbox: 2",
    ]
    for line in expected:
        assert line in text, line
    assert all(len(part) <= 4096 for part in parts)
    wrong = await StatsService(deps).stats(data.estate_id, "fortnight", "en")
    assert "I do not understand “fortnight”" in wrong[0] and "plumbing" in wrong[0]


def test_period_words() -> None:
    now = utc(2026, 11, 18, 12)  # a Wednesday
    tz = "Europe/London"
    cases = {
        "today": (date(2026, 11, 18), date(2026, 11, 18)),
        "week": (date(2026, 11, 16), date(2026, 11, 18)),
        "month": (date(2026, 11, 1), date(2026, 11, 18)),
        "quarter": (date(2026, 10, 1), date(2026, 11, 18)),
        "last-week": (date(2026, 11, 9), date(2026, 11, 15)),
        "last-month": (date(2026, 10, 1), date(2026, 10, 31)),
        "last-quarter": (date(2026, 7, 1), date(2026, 9, 30)),
        "2026-10-01..2026-12-31": (date(2026, 10, 1), date(2026, 12, 31)),
        "2026-10-25": (date(2026, 10, 25), date(2026, 10, 25)),
    }
    for word, (first, last) in cases.items():
        period = parse_period(word, now, tz)
        assert period is not None and (period.first, period.last) == (first, last), word
    assert parse_period("2026-12-31..2026-10-01", now, tz) is None
    assert parse_period("2026-02-30", now, tz) is None
    assert parse_period("soon", now, tz) is None
    january = parse_period("last-quarter", utc(2027, 1, 15), tz)
    assert january is not None and (january.first, january.last) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
