"""The managers' console end to end: /stats over a seeded quarter, /overdue and /ticket with
their buttons, exports and reports as files, staff and residents administration, invitation QR
codes, command menus — and the same commands refused to everyone else."""

import csv
import io
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import zxingcpp
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.emulator.server import FakeTelegram
from bot.emulator.state import StoredMessage
from bot.estate import parse_estate
from bot.services.estate_apply import EstateApplier
from bot.ui.console_callbacks import ConsoleAct
from handlers.manager.commands import publish_commands
from storage.models import Invitation, Staff, Ticket
from tests.e2e.harness import ESTATE, MANAGERS, PLUMBING, Stack, make_stack
from tests.unit.test_stats_figures import NOW, OTHER_ESTATE, Q4, seed_quarter

OTHER_MANAGERS = -2009
TAG = re.compile(r"</?[a-z]+>")


@pytest.fixture
async def quarter(tg: FakeTelegram, engine: AsyncEngine) -> AsyncIterator[Stack]:
    """The e2e estate and a second one, with the hand-computed quarter seeded; it is
    2027-01-05 12:00 UTC."""
    stack = await make_stack(tg, engine, now=NOW, flood_messages=0)  # many commands in a row
    await EstateApplier(stack.app.services.deps).apply(
        parse_estate(OTHER_ESTATE, str(ESTATE), ESTATE.parent)
    )
    tg.group(OTHER_MANAGERS, "Other managers")
    tg.person(3009, "Oscar", started=False)
    await seed_quarter(stack.app.sessions)
    yield stack
    await stack.app.bot.session.close()


def plain(stack: Stack, chat_id: int, since: int = 0) -> str:
    return "\n".join(TAG.sub("", t) for t in stack.texts(chat_id)[since:])


def file_of(stack: Stack, message: StoredMessage) -> bytes:
    media = message.media
    if "document" in media:
        return stack.tg.file_content(media["document"]["file_id"])
    return stack.tg.file_content(media["photo"][-1]["file_id"])


# ---- /stats -------------------------------------------------------------------------------
async def test_stats_in_private_and_in_the_managers_group(quarter: Stack) -> None:
    mia = await quarter.staff("mia")
    await quarter.feed(mia.command("stats", Q4))
    text = plain(quarter, mia.id)
    for line in (
        "Statistics · Test Court · 2026-10-01 – 2026-12-31",
        "Requests registered: 12",
        "• 😠 Complaint: 2",
        "• Light out: 2",
        "• Customer service: 4",
        "• Block B: 5",
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
    ):
        assert line in text, line

    await quarter.feed(mia.command("stats", f"{Q4} plumbing", chat_id=MANAGERS))
    group = plain(quarter, MANAGERS)
    for line in (
        "2026-10-01 – 2026-12-31 · Plumbing",
        "Requests registered: 6",
        "• claimed in time: 40% (2 of 5)",
        "• resolved in time: 75% (3 of 4)",
        "Overdue now: 2",
        "Satisfaction (4–5 of 5): 67% (2 of 3), target 95%",
        "Callbacks within 48 h: 33% (1 of 3), target 100%",
        "Messages given up by the outbox: 1",
    ):
        assert line in group, line

    await quarter.feed(mia.command("stats"))  # this week so far: Monday 4 to Tuesday 5 January
    assert "2027-01-04 – 2027-01-05" in quarter.last(mia.id).content
    assert "Requests registered: 0" in quarter.last(mia.id).content
    assert "Overdue now: 4" in quarter.last(mia.id).content
    await quarter.feed(mia.command("stats", "2026-10-25"))
    assert "Requests registered: 2" in plain(quarter, mia.id, -1)
    await quarter.feed(mia.command("stats", "fortnight"))
    assert "I do not understand “fortnight”" in quarter.last(mia.id).content
    failed = [c for c in quarter.tg.calls if not c.ok]
    assert not failed, failed


async def test_long_answers_are_split_under_the_limit(quarter: Stack) -> None:
    from storage.models import Category

    async with quarter.app.sessions.begin() as session:
        estate_categories = (await session.scalars(select(Category))).all()
        for category in estate_categories:
            category.names = {"en": category.name + " " + "<&>" * 600}  # long, to be escaped
    mia = await quarter.staff("mia")
    before = len(quarter.texts(mia.id))
    await quarter.feed(mia.command("stats", Q4))
    parts = quarter.tg.bot_messages(mia.id)[before:]
    assert len(parts) > 1
    assert all(len(p.content) <= 4096 for p in parts)
    assert any("&lt;&amp;&gt;" in p.html for p in parts)
    assert "Messages given up by the outbox: 2" in parts[-1].content


# ---- refusals -----------------------------------------------------------------------------
EVERY_COMMAND = [
    ("stats", Q4),
    ("overdue", None),
    ("ticket", "R-000001"),
    ("export", "csv " + Q4),
    ("export", "xlsx"),
    ("report", "quarter"),
    ("staff", None),
    ("staff", "add 5555 admin"),
    ("staff", "remove 1001"),
    ("residents", "pending"),
    ("residents", "find 101"),
    ("invite", "A 101"),
    ("invite", "B all"),
]


async def test_residents_and_technicians_get_the_ordinary_answer(quarter: Stack) -> None:
    alice = await quarter.register("alice")
    sam = await quarter.staff("sam")
    dan = await quarter.staff("dan")  # a dispatcher is not a manager either
    for person in (alice, sam, dan):
        await quarter.feed(person.command("frobnicate"))
        ordinary = quarter.last(person.id)
        for command, args in EVERY_COMMAND:
            before = len(quarter.tg.bot_messages(person.id))
            await quarter.feed(person.command(command, args))
            answers = quarter.tg.bot_messages(person.id)[before:]
            assert [(a.content, a.method) for a in answers] == [
                (ordinary.content, "sendMessage")
            ], (person, command, args)
        before_group = len(quarter.tg.bot_messages(MANAGERS))
        for command, args in EVERY_COMMAND:
            await quarter.feed(person.command(command, args, chat_id=MANAGERS))
        assert len(quarter.tg.bot_messages(MANAGERS)) == before_group  # silence, as for /foo
    async with quarter.app.sessions() as session:
        assert await session.scalar(select(Staff).where(Staff.telegram_id == 5555)) is None
        sam_row = await session.scalar(select(Staff).where(Staff.telegram_id == 1001))
        assert sam_row is not None and sam_row.active
        assert (await session.scalars(select(Invitation))).all() == []
    # Buttons of the console pressed by a resident: the ordinary "out of date" answer.
    t1 = await quarter.ticket_id("R-000001")
    for action in ("view", "hold", "close", "reopen"):
        await quarter.feed(
            alice.press_data(quarter.last(alice.id), ConsoleAct(action=action, ticket_id=t1).pack())
        )
        assert "out of date" in quarter.alerts()[-1]
    assert not any("R-000001" in t for t in quarter.texts(alice.id))


# ---- another estate -----------------------------------------------------------------------
async def test_a_manager_of_another_estate_sees_only_their_own(quarter: Stack) -> None:
    oscar = quarter.tg.person(3009, "Oscar", "en")
    await quarter.feed(oscar.start())
    await quarter.feed(oscar.command("stats", Q4))
    text = plain(quarter, oscar.id)
    assert "Statistics · Other Court" in text and "Requests registered: 1" in text
    assert "• 😠 Complaint: 1" in text and "Repair" not in text
    await quarter.feed(oscar.command("ticket", "R-000001"))
    assert "No request R-000001 in this estate" in quarter.last(oscar.id).content
    await quarter.feed(oscar.command("ticket", "C-000001"))
    card = quarter.last(oscar.id).content
    assert "Olga Stone" in card and "Alice" not in card
    await quarter.feed(oscar.command("overdue"))
    listing = quarter.last(oscar.id)
    assert "Overdue: 1" in listing.content and "C-000001" in listing.content
    before = len(quarter.texts(oscar.id))
    t1 = await quarter.ticket_id("R-000001")
    await quarter.feed(oscar.press_data(listing, ConsoleAct(action="view", ticket_id=t1).pack()))
    await quarter.feed(oscar.press_data(listing, ConsoleAct(action="close", ticket_id=t1).pack()))
    assert not any("R-000001" in t and "Leaking" in t for t in quarter.texts(oscar.id)[before:])
    await quarter.feed(oscar.command("staff"))
    assert "Mia Grant" not in quarter.last(oscar.id).content
    assert "Oscar Hale" in quarter.last(oscar.id).content

    mia = await quarter.staff("mia")
    before = len(quarter.tg.bot_messages(OTHER_MANAGERS))
    await quarter.feed(mia.command("stats", Q4, chat_id=OTHER_MANAGERS))  # not her estate's group
    assert len(quarter.tg.bot_messages(OTHER_MANAGERS)) == before
    await quarter.feed(oscar.command("stats", Q4, chat_id=OTHER_MANAGERS))
    assert "Other Court" in quarter.last(OTHER_MANAGERS).content


# ---- /overdue and /ticket -----------------------------------------------------------------
@pytest.fixture
async def live(tg: FakeTelegram, engine: AsyncEngine) -> AsyncIterator[Stack]:
    stack = await make_stack(tg, engine)
    yield stack
    await stack.app.bot.session.close()


async def test_overdue_most_late_first_and_the_ticket_buttons(live: Stack) -> None:
    alice = await live.register("alice")
    first = await live.file_quick(alice, "Tap drips")
    live.clock.advance(minutes=5)
    second = await live.file_quick(alice, "Another drip")
    live.clock.advance(hours=3)
    mia = await live.staff("mia")
    sam = await live.staff("sam")
    await live.feed(mia.command("overdue"))
    listing = live.last(mia.id)
    assert "Overdue: 2" in listing.content
    assert listing.content.index(first) < listing.content.index(second)  # most late first
    assert "not taken · late by 2 h 35 min" in listing.content  # claim due 30 min after filing

    await live.feed(mia.press(listing, first))
    view = live.last(mia.id)
    assert "History" in view.content and "registered" in view.content
    labels = [b["text"] for row in view.inline_keyboard for b in row]
    assert labels == ["👤 Assign", "🔒 Close"]  # what a manager may do with a new request
    await live.feed(mia.press(view, "Assign"))
    await live.feed(mia.press(live.tg.get_message(mia.id, view.message_id), "Sam Carter"))
    assert "Taken by Sam Carter" in live.card(PLUMBING, first).content

    await live.feed(
        sam.text("!valve looks corroded", chat_id=PLUMBING, reply_to=live.card(PLUMBING, first))
    )
    await live.feed(mia.command("ticket", first))
    view = live.last(mia.id)
    assert "Assignee: Sam Carter" in view.content and "assigned (Mia Grant)" in view.content
    assert "Sam Carter · 🔒 internal note: valve looks corroded" in view.content
    assert "Phone: +447700900001" in view.content  # a private chat shows the phone

    await live.feed(mia.press(view, "On hold"))
    assert f"Why is {first} on hold?" in live.last(mia.id).content
    await live.feed(mia.text("Waiting for a part <b>&"))
    assert f"{first}: done." in live.texts(mia.id)[-2]
    assert "On hold: Waiting for a part <b>&" in live.last(mia.id).content
    assert "Status: on hold" in live.card(PLUMBING, first).content

    await live.feed(mia.command("ticket", second, chat_id=MANAGERS))
    group_view = live.last(MANAGERS)
    assert "+447700900001" not in group_view.content and "01" in group_view.content
    await live.feed(mia.press(group_view, "Close"))
    await live.feed(mia.command("cancel", chat_id=MANAGERS))
    assert "Status: new" in live.card(PLUMBING, second).content
    await live.feed(mia.press(group_view, "Close"))
    await live.feed(mia.text("Duplicate", chat_id=MANAGERS))
    assert "Status: closed" in live.card(PLUMBING, second).content
    await live.tick(minutes=30)  # 13:35: the lunchtime quiet hours are over
    assert any(f"{second}: closed. Reason: Duplicate" in t for t in live.texts(alice.id))
    reopened = next(
        m
        for m in reversed(live.tg.bot_messages(MANAGERS))
        if "History" in m.content and second in m.content
    )
    assert "🔁 Reopen" in [b["text"] for row in reopened.inline_keyboard for b in row]
    await live.feed(mia.press(reopened, "Reopen"))
    assert "Status: new" in live.card(PLUMBING, second).content
    await live.feed(mia.command("ticket", "R-999999"))
    assert "No request R-999999" in live.last(mia.id).content
    failed = [c for c in live.tg.calls if not c.ok]
    assert not failed, failed


async def test_ticket_shows_the_rating(live: Stack) -> None:
    alice = await live.register("alice")
    number = await live.file_quick(alice, "Tap drips")
    sam = await live.staff("sam")
    await live.feed(sam.press(live.card(PLUMBING, number), "Accept"))
    await live.feed(sam.press(live.card(PLUMBING, number), "Done"))
    await live.feed(sam.text("Washer replaced"))
    await live.feed(sam.press(live.keyboard(sam.id), "Skip"))
    await live.feed(alice.press(live.keyboard(alice.id), "Yes, fixed"))
    await live.feed(alice.press(live.keyboard(alice.id), "⭐⭐⭐⭐⭐"))
    await live.feed(alice.press(live.keyboard(alice.id), "⭐⭐⭐⭐"))
    mia = await live.staff("mia")
    await live.feed(mia.command("ticket", number))
    view = live.last(mia.id).content
    assert "Rating: overall 5, attitude 4, quality —, timeliness —" in view
    assert "Resolution: Washer replaced" in view
    assert "Callback (after the repair)" in view


# ---- files ----------------------------------------------------------------------------------
async def test_exports_open_with_the_expected_rows(quarter: Stack) -> None:
    async with quarter.app.sessions.begin() as session:
        t1 = await session.scalar(select(Ticket).where(Ticket.number == "R-000002"))
        assert t1 is not None
        t1.description = '=HYPERLINK("http://evil","x") & <b>'
    mia = await quarter.staff("mia")
    await quarter.feed(mia.command("export", f"xlsx {Q4}"))
    message = quarter.last(mia.id)
    assert message.method == "sendDocument" and "Requests registered 2026-10-01 – 2026-12-31: 12." in message.content
    book = load_workbook(io.BytesIO(file_of(quarter, message)))
    assert book.sheetnames == ["Requests"]
    rows = list(book["Requests"].iter_rows(values_only=True))
    assert len(rows) == 13 and rows[0][0] == "Number"
    assert sorted(r[0] for r in rows[1:])[:2] == ["C-000001", "C-000002"]
    first = next(row for row in book["Requests"].iter_rows() if row[0].value == "R-000002")
    assert first[-1].value.startswith("=HYPERLINK") and first[-1].data_type == "s"  # not a formula
    assert rows[0][9] == "Registered" and str(first[9].value) == "2026-10-01 00:00:00"  # local time

    await quarter.feed(mia.command("export", f"csv {Q4} plumbing"))
    data = file_of(quarter, quarter.last(mia.id)).decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(data)))
    assert len(table) == 7 and {r[3] for r in table[1:]} == {"Plumbing"}
    t1_row = next(r for r in table if r[0] == "R-000002")
    assert t1_row[-1].startswith("'=HYPERLINK") and t1_row[9] == "2026-10-01 00:00:00"

    await quarter.feed(mia.command("export", "pdf"))
    assert "Usage: /export" in quarter.last(mia.id).content


async def test_quarterly_report_charts_and_workbook(quarter: Stack) -> None:
    mia = await quarter.staff("mia")
    before = len(quarter.tg.bot_messages(mia.id))
    await quarter.feed(mia.command("report", "last-quarter"))
    sent = quarter.tg.bot_messages(mia.id)[before:]
    photos = [m for m in sent if "photo" in m.media]
    titles = []
    for message in photos:
        image = Image.open(io.BytesIO(file_of(quarter, message)))
        image.load()
        assert image.format == "PNG" and image.width > 500
        titles.append(image.info["Title"])
    assert titles == [
        "Requests per day by kind",
        "SLA compliance by department",
        "Satisfaction trend",
        "Top categories",
        "Complaints by category",
    ]
    assert "Report · Test Court · 2026-10-01 – 2026-12-31 · requests: 12" in photos[0].content
    summary = next(m.content for m in sent if "Repeat complainants" in m.content)
    assert "Complaints: 2" in summary and "Repeat complainants: 1 (their complaints: 2)" in summary
    assert "Answered: 100% (2 of 2)" in summary
    # 35 h and 1 h to acknowledge, 109.5 h and 149 h to answer: medians and 90th percentiles
    assert "Time to acknowledge: 18 h 00 min / 1 d 8 h" in summary
    assert "Time to answer: 5 d 9 h / 6 d 1 h" in summary

    workbook = sent[-1]
    assert workbook.method == "sendDocument"
    book = load_workbook(io.BytesIO(file_of(quarter, workbook)))
    assert book.sheetnames == [
        "Per day",
        "SLA",
        "Satisfaction",
        "Categories",
        "Complaints",
        "Requests",
    ]
    per_day = list(book["Per day"].iter_rows(values_only=True))
    assert len(per_day) == 1 + 92
    assert per_day[0] == (
        "Date",
        "Repair",
        "Complaint",
        "Suggestion",
        "Question",
        "Praise",
        "Total",
    )
    assert sum(row[-1] for row in per_day[1:]) == 12
    by_date = {row[0]: row for row in per_day[1:]}
    assert by_date["2026-10-25"][1] == 2 and by_date["2026-10-24"][2] == 1
    assert by_date["2026-10-01"][1] == 1 and by_date["2026-12-31"][3] == 1
    assert len(list(book["Requests"].iter_rows())) == 13
    sla = {row[0]: row for row in book["SLA"].iter_rows(values_only=True)}
    assert sla["Plumbing"][1:4] == (40.0, 2, 5)
    complaints = {row[0]: row[1] for row in book["Complaints"].iter_rows(values_only=True) if row}
    assert complaints["Repeat complainants"] == 1 and complaints["Their complaints"] == 2
    satisfaction = list(book["Satisfaction"].iter_rows(values_only=True))
    assert sum(row[1] for row in satisfaction[1:]) == 4

    before = len(quarter.tg.bot_messages(mia.id))
    await quarter.feed(mia.command("report", "week"))
    sent = quarter.tg.bot_messages(mia.id)[before:]
    assert len([m for m in sent if "photo" in m.media]) == 4
    book = load_workbook(io.BytesIO(file_of(quarter, sent[-1])))
    assert "Complaints" not in book.sheetnames and len(list(book["Per day"].iter_rows())) == 1 + 2
    await quarter.feed(mia.command("report", "fortnight"))
    assert "Usage: /report" in quarter.last(mia.id).content


# ---- staff and residents ------------------------------------------------------------------
async def test_staff_administration(live: Stack) -> None:
    mia = await live.staff("mia")
    await live.feed(mia.command("staff"))
    listing = live.last(mia.id).content
    assert "Staff: 7" in listing and "Sam Carter — technician — plumbing — 1001" in listing
    await live.feed(mia.command("staff", "add 4242 technician plumbing,electrical Nia <Shaw>"))
    assert (
        "Added: Nia <Shaw>, technician, departments: plumbing, electrical"
        in live.last(mia.id).content
    )
    await live.feed(mia.command("staff", "add 4243 admin"))
    assert "Only an admin" in live.last(mia.id).content
    await live.feed(mia.command("staff", "add 4244 wizard"))
    assert "Unknown role" in live.last(mia.id).content
    await live.feed(mia.command("staff", "add 4245 dispatcher plumbing,gardening"))
    assert "Unknown department “gardening”" in live.last(mia.id).content
    await live.feed(mia.command("staff", "remove 1009"))
    assert "cannot remove yourself" in live.last(mia.id).content
    await live.feed(mia.command("staff", "remove 1002"))
    assert "Lee Wong is deactivated" in live.last(mia.id).content
    async with live.app.sessions() as session:
        nia = await session.scalar(select(Staff).where(Staff.telegram_id == 4242))
        lee = await session.scalar(select(Staff).where(Staff.telegram_id == 1002))
        assert nia is not None and nia.role == "technician" and nia.name == "Nia <Shaw>"
        assert sorted(d.code for d in nia.departments) == ["electrical", "plumbing"]
        assert lee is not None and not lee.active
    # The new technician can take a plumbing job at once.
    alice = await live.register("alice")
    number = await live.file_quick(alice, "Tap drips")
    nia_person = live.tg.person(4242, "Nia", "en")
    await live.feed(nia_person.start())
    await live.feed(nia_person.press(live.card(PLUMBING, number), "Accept"))
    assert "Taken by Nia &lt;Shaw&gt;" in live.card(PLUMBING, number).html
    ada = await live.staff("ada")
    await live.feed(ada.command("staff", "add 4243 admin - Tom Ray"))
    assert "Added: Tom Ray, admin" in live.last(ada.id).content


async def test_pending_verifications_and_finding_residents(live: Stack) -> None:
    nora = live.tg.person(3002, "Nora", "en", "+447700955555")
    await live.feed(nora.start())
    await live.feed(nora.share_contact())
    await live.feed(nora.press(live.last(nora.id), "Block B"))
    await live.feed(nora.text("7"))
    mia = await live.staff("mia")
    await live.feed(mia.command("residents", "pending", chat_id=MANAGERS))
    card = live.last(MANAGERS)
    assert "Flat: 7, Block B" in card.content and "955555" not in card.content
    await live.feed(mia.command("residents", "pending"))
    private_card = live.last(mia.id)
    assert "+447700955555" in private_card.content
    await live.feed(mia.press(private_card, "Approve"))
    assert "confirmed" in live.last(nora.id).content
    await live.feed(mia.command("residents", "pending"))
    assert "No verifications are waiting" in live.last(mia.id).content

    alice = await live.register("alice")
    await live.file_quick(alice, "Tap drips")
    await live.feed(mia.command("residents", "find A 101"))
    found = live.last(mia.id).content
    assert "Alice Brown · +447700900001 · flat 101, Block A · verified · requests: 1" in found
    await live.feed(mia.command("residents", "find 900002"))
    assert (
        "Bo Chen · +447700900002 · flat 102, Block A · in the registry" in live.last(mia.id).content
    )
    await live.feed(mia.command("residents", "find 7"))
    assert "Nora" in live.last(mia.id).content
    await live.feed(mia.command("residents", "find 101", chat_id=MANAGERS))
    assert "ask me for it in a private chat" in live.last(MANAGERS).content
    await live.feed(mia.command("residents", "find Z 999"))
    assert "Nobody found" in live.last(mia.id).content


# ---- invitations ----------------------------------------------------------------------------
def decode(png: bytes) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def test_invitation_qr_codes_decode_to_the_deep_link(live: Stack) -> None:
    mia = await live.staff("mia")
    username = live.tg.bot_user.username
    await live.feed(mia.command("invite", "A 101"))
    message = live.last(mia.id)
    assert message.method == "sendPhoto" and "flat 101, Block A" in message.content
    links = decode(file_of(live, message))
    assert len(links) == 1 and links[0].startswith(f"https://t.me/{username}?start=inv_")
    assert links[0] in message.content
    newcomer = live.tg.person(3010, "Quinn", "en")
    await live.feed(newcomer.start(links[0].split("start=", 1)[1]))
    assert "registered to flat 101, Block A" in live.last(newcomer.id).content

    before = len(live.tg.bot_messages(mia.id))
    await live.feed(mia.command("invite", "B all"))
    sheets = live.tg.bot_messages(mia.id)[before:]
    assert [m.method for m in sheets] == ["sendDocument", "sendDocument"]  # 20 flats, 12 a page
    decoded = [link for sheet in sheets for link in decode(file_of(live, sheet))]
    assert len(decoded) == 20 and len(set(decoded)) == 20
    async with live.app.sessions() as session:
        tokens = {i.token for i in (await session.scalars(select(Invitation))).all()}
    assert {link.split("start=inv_", 1)[1] for link in decoded} <= tokens
    await live.feed(mia.command("invite", "C 1"))
    assert "Unknown building “C”" in live.last(mia.id).content
    await live.feed(mia.command("invite", "A 999"))
    assert "No flat “999”" in live.last(mia.id).content


# ---- help and menus -------------------------------------------------------------------------
async def test_help_and_command_menus(live: Stack) -> None:
    mia = await live.staff("mia")
    await live.feed(mia.command("help"))
    help_text = live.last(mia.id).content
    for command in (
        "/stats",
        "/overdue",
        "/ticket",
        "/export",
        "/report",
        "/staff",
        "/residents",
        "/invite",
    ):
        assert command in help_text
    alice = await live.register("alice")
    await live.feed(alice.command("help"))
    assert "How to use this bot" in live.last(alice.id).content

    assert await publish_commands(live.app.bot, live.app.services) >= 6

    def names(scope: dict[str, Any], code: str = "") -> list[str]:
        return [c["command"] for c in live.tg.commands(scope, code)]

    assert "new" in names({"type": "default"}) and "stats" not in names({"type": "default"})
    assert names({"type": "all_group_chats"}) == ["bind"]
    assert "stats" in names({"type": "chat", "chat_id": MANAGERS})
    assert "invite" in names({"type": "chat", "chat_id": mia.id})
    russian = live.tg.commands({"type": "default"}, "ru")
    assert [c["command"] for c in russian] == names({"type": "default"})
