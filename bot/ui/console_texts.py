"""Texts and keyboards of the managers' console (/stats, /overdue, /ticket, /staff, ...).

Builders take a locale-bound ``_`` and plain data and return HTML in which no tag spans a
line, so ``pack`` can cut long answers between lines.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain.kinds import TicketKind
from bot.i18n import Gettext
from bot.ui.callbacks import LeadAct
from bot.ui.console_callbacks import ConsoleAct
from bot.ui.format import TEXT_LIMIT, clip, h, local_time, split_text
from bot.ui.labels import event_label, kind_label, status_label

if TYPE_CHECKING:
    from bot.services.stats import Figures, Share, Timing


# ---- plumbing ------------------------------------------------------------------------------
def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def pack(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut a long HTML answer between lines into parts under Telegram's limit. A single line
    longer than the limit (never produced here for HTML) is cut by ``split_text``."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        pieces = [line] if _units(line) <= limit else split_text(line, limit)
        for piece in pieces:
            extra = _units(piece) + (1 if current else 0)
            if current and size + extra > limit:
                parts.append("\n".join(current))
                current, size = [], 0
                extra = _units(piece)
            current.append(piece)
            size += extra
    if current or not parts:
        parts.append("\n".join(current).strip("\n") or "—")
    return [part for part in parts if part.strip()] or ["—"]


def percent(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{int(value + 0.5)}%"


def duration(_: Gettext, seconds: float | None) -> str:
    """Seconds as people read them: 45 s, 25 min, 1 h 05 min, 2 d 3 h."""
    if seconds is None:
        return "—"
    if seconds < 59.5:
        return _("{n} s").format(n=int(seconds + 0.5))
    minutes = int(seconds / 60 + 0.5)
    if minutes < 60:
        return _("{n} min").format(n=minutes)
    if minutes < 24 * 60:
        return _("{h} h {m} min").format(h=minutes // 60, m=f"{minutes % 60:02d}")
    hours = int(minutes / 60 + 0.5)
    return _("{d} d {h} h").format(d=hours // 24, h=hours % 24)


def share_line(_: Gettext, share: "Share") -> str:
    if share.total == 0:
        return _("no data")
    return _("{percent} ({hits} of {total})").format(
        percent=percent(share.percent), hits=share.hits, total=share.total
    )


# ---- errors and usage ----------------------------------------------------------------------
def bad_argument(_: Gettext, word: str, known_departments: str) -> str:
    if known_departments:
        return _(
            "I do not understand “{word}”. Use a period (today, week, month, quarter, "
            "last-week, last-month, last-quarter or YYYY-MM-DD..YYYY-MM-DD) and optionally a "
            "department: {known}."
        ).format(word=h(word), known=h(known_departments))
    return _(
        "I do not understand “{word}”. Use a period (today, week, month, quarter, "
        "last-week, last-month, last-quarter or YYYY-MM-DD..YYYY-MM-DD)."
    ).format(word=h(word))


def stats_usage(_: Gettext) -> str:
    return _("Usage: /stats [today|week|month|quarter|YYYY-MM-DD..YYYY-MM-DD] [department]")


def help_text(_: Gettext) -> str:
    return "\n".join(
        [
            _("<b>Manager commands</b>"),
            _("/stats [period] [department] — figures for a period (default: this week)"),
            _("/overdue — open requests past a deadline, most late first"),
            _("/ticket R-000123 — a request in full, with history and actions"),
            _("/export csv|xlsx [period] — the period's requests as a file (default: this month)"),
            _("/report week|month|quarter — charts and a workbook"),
            _("/staff — staff list; /staff add ID ROLE [departments] [name]; /staff remove ID"),
            _("/residents pending — verifications to approve; /residents find FLAT or PHONE"),
            _("/invite BUILDING FLAT|all — invitation QR codes"),
            _("/callbacks — calls owed to residents (private chat)"),
            _("/announce — an announcement to residents (private chat)"),
            _(
                "Periods: today, week, month, quarter, last-week, last-month, last-quarter, "
                "YYYY-MM-DD..YYYY-MM-DD (estate time)."
            ),
        ]
    )


def private_only(_: Gettext) -> str:
    return _("This list has names and phone numbers: ask me for it in a private chat.")


# ---- /stats --------------------------------------------------------------------------------
def _breakdown(title: str, rows: Sequence[tuple[str, int]]) -> list[str]:
    lines = [f"<b>{title}</b>"]
    lines += [f"• {h(name)}: {count}" for name, count in rows]
    if not rows:
        lines.append("• —")
    return lines


def _timing(_: Gettext, label: str, timing: "Timing") -> str:
    return _("• {label}: {median} / {p90} (requests: {count})").format(
        label=label,
        median=duration(_, timing.median),
        p90=duration(_, timing.p90),
        count=timing.count,
    )


def stats(_: Gettext, figures: "Figures", estate_name: str) -> str:
    title = _("📊 <b>Statistics</b> · {estate} · {period}").format(
        estate=h(estate_name), period=figures.period.label
    )
    if figures.department:
        title += " · " + h(figures.department)
    lines = [title, _("Requests registered: {count}").format(count=figures.total), ""]
    kinds = [(kind_label(_, kind), count) for kind, count in figures.by_kind]
    lines += _breakdown(_("By kind"), kinds)
    lines += _breakdown(_("By category"), figures.by_category)
    lines += _breakdown(_("By department"), figures.by_department)
    lines += _breakdown(_("By building"), figures.by_building)
    lines.append("")
    lines.append(_("<b>Times</b> (median / 90th percentile)"))
    lines.append(_timing(_, _("to claim"), figures.timings["claim"]))
    lines.append(_timing(_, _("to arrive on site"), figures.timings["on_site"]))
    lines.append(_timing(_, _("to resolve"), figures.timings["resolve"]))
    lines.append("")
    lines.append(_("<b>Within standard</b>"))
    lines.append(
        _("• claimed in time: {share}").format(share=share_line(_, figures.within["claim"]))
    )
    lines.append(
        _("• on site in time: {share}").format(share=share_line(_, figures.within["on_site"]))
    )
    lines.append(
        _("• resolved in time: {share}").format(share=share_line(_, figures.within["resolve"]))
    )
    lines.append("")
    lines.append(_("Overdue now: {count}").format(count=figures.overdue_now))
    lines.append(
        _("Satisfaction (4–5 of 5): {share}, target 95%").format(
            share=share_line(_, figures.satisfaction)
        )
    )
    lines.append(
        _("Callbacks within 48 h: {share}, target 100%").format(
            share=share_line(_, figures.callbacks)
        )
    )
    per_100 = figures.complaints_per_100_flats
    lines.append(
        _("Complaints per 100 flats: {value} (complaints: {complaints}, flats: {flats})").format(
            value="—" if per_100 is None else f"{per_100:.1f}",
            complaints=figures.complaints,
            flats=figures.flats,
        )
    )
    lines.append(
        _("Messages given up by the outbox: {count}").format(count=figures.failed_messages)
    )
    return "\n".join(lines)


# ---- /overdue ------------------------------------------------------------------------------
@dataclass
class OverdueEntry:
    ticket_id: int
    number: str
    department: str
    step: str  # claim, on_site, resolve
    late_seconds: float
    assignee: str | None


def step_label(_: Gettext, step: str) -> str:
    return {
        "claim": _("not taken"),
        "on_site": _("nobody on site"),
        "resolve": _("not resolved"),
    }[step]


def overdue(_: Gettext, entries: Sequence[OverdueEntry], total: int) -> str:
    if not entries:
        return _("✅ Nothing is overdue.")
    lines = [_("🚨 <b>Overdue</b>: {count}").format(count=total)]
    for entry in entries:
        line = _("{number} · {department} · {step} · late by {late}").format(
            number=entry.number,
            department=h(entry.department),
            step=step_label(_, entry.step),
            late=duration(_, entry.late_seconds),
        )
        if entry.assignee:
            line += " · " + h(entry.assignee)
        lines.append(line)
    if total > len(entries):
        lines.append(_("…and {count} more.").format(count=total - len(entries)))
    return "\n".join(lines)


def overdue_markup(_: Gettext, entries: Sequence[OverdueEntry]) -> InlineKeyboardMarkup | None:
    if not entries:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("{number} · late by {late}").format(
                        number=entry.number, late=duration(_, entry.late_seconds)
                    ),
                    callback_data=ConsoleAct(action="view", ticket_id=entry.ticket_id).pack(),
                )
            ]
            for entry in entries
        ]
    )


# ---- /ticket -------------------------------------------------------------------------------
@dataclass
class HistoryItem:
    at: datetime
    event: str
    actor: str | None
    note: str | None


@dataclass
class TicketCard:
    number: str
    kind: str
    category: str | None
    department: str
    where: str
    resident: str | None
    phone: str | None
    status: str
    emergency: bool
    created_at: datetime
    deadlines: list[tuple[str, datetime | None, datetime | None]]  # step, due, done
    assignee: str | None
    description: str
    photos: int
    history: list[HistoryItem]
    rating: dict[str, Any] | None
    callbacks: list[tuple[str, datetime, datetime | None]]
    hold_reason: str | None
    resolution: str | None
    reject_reason: str | None
    answer: str | None


MESSAGE_EVENTS = ("comment", "staff_message", "note")


def _deadline_line(_: Gettext, step: str, due: datetime, done: datetime | None, tz: str) -> str:
    names = {"claim": _("Claim by"), "on_site": _("On site by"), "resolve": _("Resolve by")}
    if done is None:
        mark = ""
    elif done <= due:
        mark = " ✅"
    else:
        mark = " ⚠️"
    return f"{names[step]}: {local_time(due, tz)}" + (
        f" → {local_time(done, tz)}{mark}" if done is not None else ""
    )


def ticket_card(_: Gettext, card: TicketCard, tz: str) -> str:
    head = f"<b>{card.number}</b> · {kind_label(_, card.kind)}"
    if card.category:
        head += f" · {h(card.category)}"
    lines = []
    if card.emergency:
        lines.append(_("🚨 <b>EMERGENCY</b>"))
    lines += [
        head,
        _("Department: {department}").format(department=h(card.department)),
        card.where,
        _("Resident: {name}").format(name=h(card.resident or "—")),
    ]
    if card.phone:
        lines.append(_("Phone: {phone}").format(phone=h(card.phone)))
    lines.append(_("Status: {status}").format(status=status_label(_, card.status)))
    if card.assignee:
        lines.append(_("Assignee: {name}").format(name=h(card.assignee)))
    lines.append(_("Registered: {time}").format(time=local_time(card.created_at, tz)))
    for step, due, done in card.deadlines:
        if due is not None:
            lines.append(_deadline_line(_, step, due, done, tz))
    for label, value in (
        (_("On hold: {reason}"), card.hold_reason),
        (_("Resolution: {text}"), card.resolution),
        (_("Rejected: {reason}"), card.reject_reason),
        (_("Answer: {text}"), card.answer),
    ):
        if value:
            one_line = " ".join(clip(value, 500).split())
            lines.append(label.format(reason=h(one_line), text=h(one_line)))
    lines.append("")
    lines += [h(line) for line in clip(card.description, 1500).split("\n")] or ["—"]
    lines.append(_("📷 Photos: {count}").format(count=card.photos))
    lines.append("")
    lines.append(_("<b>History</b>"))
    for item in card.history:
        if item.event in MESSAGE_EVENTS:
            continue
        line = f"{local_time(item.at, tz)} — {event_label(_, item.event)}"
        if item.actor:
            line += f" ({h(item.actor)})"
        if item.note:
            line += ": " + h(" ".join(clip(item.note, 300).split()))
        lines.append(line)
    messages = [item for item in card.history if item.event in MESSAGE_EVENTS]
    lines.append("")
    lines.append(_("<b>Messages</b>: {count}").format(count=len(messages)))
    for item in messages:
        who = item.actor or _("Resident")
        label = _("🔒 internal note") if item.event == "note" else ""
        text = h(" ".join(clip(item.note or "", 500).split()))
        lines.append(
            f"{local_time(item.at, tz)} — {h(who)}{' · ' + label if label else ''}: {text}"
        )
    lines.append("")
    if card.rating:
        lines.append(
            _(
                "<b>Rating</b>: overall {overall}, attitude {attitude}, quality {quality}, "
                "timeliness {timeliness}"
            ).format(
                **{
                    k: card.rating.get(k) or "—"
                    for k in ("overall", "attitude", "quality", "timeliness")
                }
            )
        )
        if card.rating.get("comment"):
            comment = " ".join(clip(str(card.rating["comment"]), 500).split())
            lines.append(_("Resident's comment: {comment}").format(comment=h(comment)))
    else:
        lines.append(_("<b>Rating</b>: none yet"))
    for reason, due, done in card.callbacks:
        reasons = {"after_repair": _("after the repair"), "follow_up": _("follow-up")}
        lines.append(
            _("Callback ({reason}): due {due}, done {done}").format(
                reason=reasons.get(reason, reason),
                due=local_time(due, tz),
                done=local_time(done, tz),
            )
        )
    return "\n".join(lines)


def ticket_markup(
    _: Gettext, ticket_id: int, actions: Sequence[str]
) -> InlineKeyboardMarkup | None:
    labels = {
        "assign": _("👤 Assign"),
        "hold": _("⏸ On hold"),
        "reopen": _("🔁 Reopen"),
        "close": _("🔒 Close"),
    }
    buttons: list[InlineKeyboardButton] = []
    for action in actions:
        data = (
            LeadAct(action="assign", ticket_id=ticket_id).pack()
            if action == "assign"
            else ConsoleAct(action=action, ticket_id=ticket_id).pack()
        )
        buttons.append(InlineKeyboardButton(text=labels[action], callback_data=data))
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    )


def ask_reason(_: Gettext, action: str, number: str) -> str:
    if action == "hold":
        return _(
            "Why is {number} on hold? You may end with a date to resume, e.g. 2026-12-01. "
            "/cancel to leave it."
        ).format(number=number)
    return _(
        "Why is {number} closed? The resident will see the reason. /cancel to leave it."
    ).format(number=number)


def no_ticket(_: Gettext, number: str) -> str:
    return _("No request {number} in this estate.").format(number=h(number))


def ticket_usage(_: Gettext) -> str:
    return _("Usage: /ticket R-000123")


# ---- /staff --------------------------------------------------------------------------------
ROLE_ORDER = ("admin", "manager", "dispatcher", "technician")


def role_label(_: Gettext, role: str) -> str:
    return {
        "technician": _("technician"),
        "dispatcher": _("dispatcher"),
        "manager": _("manager"),
        "admin": _("admin"),
    }.get(role, role)


@dataclass
class StaffLine:
    telegram_id: int
    name: str
    role: str
    departments: list[str]
    has_private_chat: bool
    open_jobs: int


def staff_list(_: Gettext, rows: Sequence[StaffLine], inactive: int) -> str:
    lines = [_("👥 <b>Staff</b>: {count}").format(count=len(rows))]
    for row in rows:
        line = f"• {h(row.name)} — {role_label(_, row.role)}"
        if row.departments:
            line += " — " + h(", ".join(row.departments))
        line += f" — <code>{row.telegram_id}</code>"
        if not row.has_private_chat:
            line += " · " + _("has not pressed Start")
        if row.open_jobs:
            line += " · " + _("open requests: {count}").format(count=row.open_jobs)
        lines.append(line)
    if inactive:
        lines.append(_("Inactive: {count}").format(count=inactive))
    return "\n".join(lines)


def staff_usage(_: Gettext) -> str:
    return "\n".join(
        [
            _("Usage:"),
            _("/staff — the list"),
            _(
                "/staff add TELEGRAM_ID ROLE [departments] [Name] — role: technician, "
                "dispatcher, manager or admin; departments: lowercase codes separated by "
                "commas, or - for none; the name starts with a capital letter"
            ),
            _("/staff remove TELEGRAM_ID"),
        ]
    )


def staff_added(_: Gettext, name: str, role: str, departments: Sequence[str], updated: bool) -> str:
    template = (
        _("✅ Updated: {name}, {role}, departments: {departments}.")
        if updated
        else _("✅ Added: {name}, {role}, departments: {departments}.")
    )
    return template.format(
        name=h(name), role=role_label(_, role), departments=h(", ".join(departments) or "—")
    )


def staff_removed(_: Gettext, name: str, open_jobs: int) -> str:
    text = _("✅ {name} is deactivated; their history stays.").format(name=h(name))
    if open_jobs:
        text += "\n" + _(
            "They still hold {count} open requests: reassign them from /overdue or /ticket."
        ).format(count=open_jobs)
    return text


def staff_error(_: Gettext, reason: str, value: str = "") -> str:
    return {
        "bad_id": _("“{value}” is not a Telegram id (a number)."),
        "bad_role": _("Unknown role “{value}”: technician, dispatcher, manager or admin."),
        "bad_department": _("Unknown department “{value}”."),
        "not_found": _("No active staff member with id {value}."),
        "admin_only": _("Only an admin can add or remove admins."),
        "self": _("You cannot remove yourself."),
    }[reason].format(value=h(value))


# ---- /residents ----------------------------------------------------------------------------
def residents_usage(_: Gettext) -> str:
    return _("Usage: /residents pending, or /residents find FLAT or PHONE (e.g. A 101, 900001)")


def no_pending(_: Gettext) -> str:
    return _("No verifications are waiting.")


def pending_card(_: Gettext, name: str, phone: str, flat: str, building: str) -> str:
    return _(
        "🏠 <b>Verification request</b>\nName: {name}\nPhone: {phone}\nFlat: {flat}, {building}"
    ).format(name=h(name), phone=h(phone), flat=h(flat), building=h(building))


@dataclass
class FoundResident:
    name: str
    phone: str
    flat: str
    building: str
    status: str
    registered: bool  # has a Telegram account with us (else: registry only)
    requests: int


def resident_status_label(_: Gettext, status: str) -> str:
    return {
        "unverified": _("not verified"),
        "pending": _("waiting for verification"),
        "verified": _("verified"),
        "rejected": _("rejected"),
        "registry": _("in the registry, not using the bot"),
    }.get(status, status)


def found_residents(_: Gettext, query: str, rows: Sequence[FoundResident]) -> str:
    if not rows:
        return _("Nobody found for “{query}”.").format(query=h(query))
    lines = [
        _("🔎 <b>Residents</b> for “{query}”: {count}").format(query=h(query), count=len(rows))
    ]
    for row in rows:
        line = f"• {h(row.name)} · {h(row.phone)} · " + _("flat {flat}, {building}").format(
            flat=h(row.flat), building=h(row.building)
        )
        line += " · " + resident_status_label(_, row.status if row.registered else "registry")
        if row.registered:
            line += " · " + _("requests: {count}").format(count=row.requests)
        lines.append(line)
    return "\n".join(lines)


# ---- /invite -------------------------------------------------------------------------------
def invite_usage(_: Gettext) -> str:
    return _("Usage: /invite BUILDING FLAT, or /invite BUILDING all (e.g. /invite A 101)")


def invite_error(_: Gettext, reason: str, value: str, known: str = "") -> str:
    return {
        "building": _("Unknown building “{value}”. Known: {known}."),
        "flat": _("No flat “{value}” in this building."),
        "empty": _("This building has no active flats."),
    }[reason].format(value=h(value), known=h(known))


def invite_caption(_: Gettext, building: str, flat: str, link: str, expires: str) -> str:
    return _(
        "🔗 Invitation for flat {flat}, {building}; single use, valid until {expires}.\n{link}"
    ).format(flat=h(flat), building=h(building), expires=expires, link=h(link))


def invite_sheet_caption(
    _: Gettext, building: str, count: int, page: int, pages: int, expires: str
) -> str:
    return _(
        "🔗 Invitations for {building} (flats: {count}), sheet {page} of {pages}; each code is "
        "single use, valid until {expires}."
    ).format(building=h(building), count=count, page=page, pages=pages, expires=expires)


def sheet_subtitle(_: Gettext, expires: str) -> str:
    return _("Scan with the phone camera to join; each code works once, until {expires}.").format(
        expires=expires
    )


def sheet_label(_: Gettext, building: str, flat: str) -> str:
    return _("{building} · flat {flat}").format(building=building, flat=flat)


# ---- exports and reports ---------------------------------------------------------------------
def export_usage(_: Gettext) -> str:
    return _("Usage: /export csv|xlsx [period] (default: this month)")


def report_usage(_: Gettext) -> str:
    return _("Usage: /report week|month|quarter (or last-week, last-month, last-quarter)")


def export_caption(_: Gettext, count: int, period: str) -> str:
    return _("📄 Requests registered {period}: {count}.").format(count=count, period=period)


def too_many_rows(_: Gettext, count: int) -> str:
    return _("{count} requests do not fit a workbook: use csv or a shorter period.").format(
        count=count
    )


def raw_columns(_: Gettext) -> list[str]:
    return [
        _("Number"),
        _("Kind"),
        _("Category"),
        _("Department"),
        _("Building"),
        _("Flat"),
        _("Place"),
        _("Emergency"),
        _("Status"),
        _("Registered"),
        _("Claimed"),
        _("On site"),
        _("Resolved"),
        _("Closed"),
        _("Claim due"),
        _("On site due"),
        _("Resolve due"),
        _("Assignee"),
        _("Overall"),
        _("Attitude"),
        _("Quality"),
        _("Timeliness"),
        _("Description"),
    ]


def chart_titles(_: Gettext) -> dict[str, str]:
    return {
        "per_day": _("Requests per day by kind"),
        "sla": _("SLA compliance by department"),
        "satisfaction": _("Satisfaction trend"),
        "categories": _("Top categories"),
        "complaints": _("Complaints by category"),
    }


def sheet_titles(_: Gettext) -> dict[str, str]:
    return {
        "per_day": _("Per day"),
        "sla": _("SLA"),
        "satisfaction": _("Satisfaction"),
        "categories": _("Categories"),
        "complaints": _("Complaints"),
        "raw": _("Requests"),
    }


def kind_names(_: Gettext) -> dict[str, str]:
    """Kind names without emoji (for charts and files)."""
    return {
        TicketKind.REPAIR.value: _("Repair"),
        TicketKind.COMPLAINT.value: _("Complaint"),
        TicketKind.SUGGESTION.value: _("Suggestion"),
        TicketKind.QUESTION.value: _("Question"),
        TicketKind.PRAISE.value: _("Praise"),
    }


def step_names(_: Gettext) -> dict[str, str]:
    return {
        "claim": _("Claimed in time"),
        "on_site": _("On site in time"),
        "resolve": _("Resolved in time"),
    }


@dataclass
class ComplaintFigures:
    total: int
    by_category: list[tuple[str, int]]
    by_building: list[tuple[str, int]]
    repeat_residents: int
    repeat_complaints: int
    answered: int
    acknowledge: "Timing"
    answer: "Timing"


def complaints_summary(_: Gettext, c: ComplaintFigures) -> list[str]:
    lines = [
        _("<b>Complaints</b>: {count}").format(count=c.total),
        _("Repeat complainants: {residents} (their complaints: {complaints})").format(
            residents=c.repeat_residents, complaints=c.repeat_complaints
        ),
        _("Time to acknowledge: {median} / {p90}").format(
            median=duration(_, c.acknowledge.median), p90=duration(_, c.acknowledge.p90)
        ),
        _("Time to answer: {median} / {p90}").format(
            median=duration(_, c.answer.median), p90=duration(_, c.answer.p90)
        ),
        _("Answered: {share}").format(
            share="—"
            if c.total == 0
            else f"{percent(100.0 * c.answered / c.total)} ({c.answered} of {c.total})"
        ),
    ]
    return lines


def report_caption(_: Gettext, estate: str, period: str, total: int) -> str:
    return _("📈 <b>Report</b> · {estate} · {period} · requests: {count}").format(
        estate=h(estate), period=period, count=total
    )


def done(_: Gettext, number: str) -> str:
    return _("{number}: done.").format(number=number)
