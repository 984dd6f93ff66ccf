"""Text builders: each takes a locale-bound ``_`` and plain data, and returns HTML.

Everything a user typed goes through ``h()``; every template comes from the catalogs.
"""

from collections.abc import Sequence
from datetime import datetime

from bot.domain.kinds import Hazard, TicketKind
from bot.domain.lifecycle import Status
from bot.i18n import Gettext
from bot.ui.format import clip, h, html_to_plain, local_time, utf16_len
from bot.ui.labels import event_label, kind_label, status_label
from storage.models import Category, Ticket, TicketEvent
from storage.repo import TicketLine

DESCRIPTION_LIMIT = 2000
MAX_PHOTOS = 5
HISTORY_BUDGET = 4000  # UTF-16 units for a request's details, under Telegram's 4,096


def where_line(_: Gettext, ticket: Ticket) -> str:
    if ticket.place == "common":
        return _("Common area: {place}").format(place=h(ticket.place_text or ""))
    if ticket.flat is not None:
        return _("Building {building}, flat {flat}").format(
            building=h(ticket.flat.building.name), flat=h(ticket.flat.label)
        )
    return _("Place not given")


def category_name(ticket: Ticket, locale: str) -> str:
    return h(ticket.category.label(locale)) if ticket.category is not None else ""


def safety_advice(_: Gettext, hazard: Hazard, number: str | None) -> str:
    advice = {
        Hazard.WATER: _(
            "💧 Turn off the water at the main valve if you can, switch off electricity near the "
            "water, and move valuables away. Do not touch wet sockets."
        ),
        Hazard.POWER: _(
            "⚡ Do not touch exposed wires or the switchboard. Unplug sensitive devices. If you "
            "see sparks or smell burning, leave and call the fire service."
        ),
        Hazard.GAS: _(
            "🔥 Leave the flat now. Do not switch any lights or appliances on or off, do not use "
            "a lighter or your phone inside. Open windows on your way out if it is safe. From "
            "outside, call the gas emergency number."
        ),
        Hazard.LIFT: _(
            "🛗 Stay calm and stay inside the lift. Press the alarm button. Do not try to open "
            "the doors or climb out. Help is on its way."
        ),
        Hazard.FIRE: _(
            "🔥 Leave the building by the stairs, never the lift. Close doors behind you. Call "
            "the fire service from outside."
        ),
    }[hazard]
    if number:
        advice += "\n\n" + _("☎️ Emergency number: {number}").format(number=h(number))
    return _("<b>Safety first</b>") + "\n" + advice


def confirmation(_: Gettext, ticket: Ticket, next_step: str) -> str:
    return "\n".join(
        [
            _("✅ Your request <b>{number}</b> is registered.").format(number=ticket.number),
            _("Status: {status}").format(status=status_label(_, ticket.status)),
            next_step,
            _("Reply to any message about this request to write to the team."),
        ]
    )


def summary(
    _: Gettext,
    kind: TicketKind,
    category: str | None,
    where: str | None,
    emergency: bool,
    description: str,
    photos: int,
) -> str:
    lines = [_("<b>Please check your request</b>"), kind_label(_, kind)]
    if category:
        lines.append(_("Category: {category}").format(category=h(category)))
    if where:
        lines.append(where)
    if emergency:
        lines.append(_("🚨 Emergency"))
    lines.append(_("Description: {text}").format(text=h(clip(description, 2500))))
    lines.append(_("Photos: {count}").format(count=photos))
    return "\n".join(lines)


def card(_: Gettext, ticket: Ticket, locale: str, tz: str, unreachable: bool) -> str:
    lines: list[str] = []
    if ticket.emergency:
        lines.append(_("🚨 <b>EMERGENCY</b>"))
    header = f"<b>{ticket.number}</b> · {kind_label(_, ticket.kind)}"
    if ticket.category is not None:
        header += f" · {category_name(ticket, locale)}"
    lines.append(header)
    lines.append(where_line(_, ticket))
    lines.append(_("Registered: {time}").format(time=local_time(ticket.created_at, tz)))
    if ticket.claim_due_at is not None and Status(ticket.status) is Status.NEW:
        lines.append(_("Claim by: {time}").format(time=local_time(ticket.claim_due_at, tz)))
    if ticket.on_site_due_at is not None and ticket.on_site_at is None:
        lines.append(_("On site by: {time}").format(time=local_time(ticket.on_site_due_at, tz)))
    if ticket.resolve_due_at is not None and Status(ticket.status).is_open:
        lines.append(_("Resolve by: {time}").format(time=local_time(ticket.resolve_due_at, tz)))
    lines.append("")
    lines.append(h(clip(ticket.description, 2000)) or _("(no description yet)"))
    lines.append("")
    lines.append(
        _("📷 Photos: {photos} · 💬 Messages: {messages}").format(
            photos=ticket.photo_count, messages=ticket.message_count
        )
    )
    lines.append(_("Status: {status}").format(status=status_label(_, ticket.status)))
    if ticket.assignee is not None and Status(ticket.status).is_open:
        lines.append(
            _("Taken by {name} at {time}").format(
                name=h(ticket.assignee.name), time=local_time(ticket.claimed_at, tz)
            )
        )
    if ticket.hold_reason and Status(ticket.status) is Status.ON_HOLD:
        lines.append(_("On hold: {reason}").format(reason=h(clip(ticket.hold_reason, 300))))
    if unreachable and Status(ticket.status).is_open:
        lines.append(_("⚠️ The resident has blocked the bot: please phone them."))
    return "\n".join(lines)


def claimant_details(
    _: Gettext, ticket: Ticket, locale: str, tz: str, name: str, phone: str
) -> str:
    return "\n".join(
        [
            _("You took <b>{number}</b>.").format(number=ticket.number),
            _("Resident: {name}").format(name=h(name)),
            _("Phone: {phone}").format(phone=h(phone)),
            where_line(_, ticket),
            "",
            h(clip(ticket.description, 2500)),
        ]
    )


def ticket_notice(_: Gettext, event: str, ticket: Ticket, actor_name: str, note: str | None) -> str:
    number = f"<b>{ticket.number}</b>"
    name = h(actor_name)
    text = h(clip(note or "", 3000))
    templates = {
        "claim": _("{number}: {name} has taken your request."),
        "assign": _("{number}: {name} has taken your request."),
        "acknowledge": _("{number}: your request has been acknowledged by {name}."),
        "on_my_way": _("{number}: {name} is on the way."),
        "start_work": _("{number}: work has started."),
        "hold": _("{number}: put on hold. Reason: {note}"),
        "resume": _("{number}: work resumes."),
        "done": _("{number}: resolved by {name}. Note: {note}\n\nIs it fixed?"),
        "answer": _("{number}: answer from {name}:\n\n{note}\n\nDoes this answer your request?"),
        "reject": _("{number}: rejected. Reason: {note}"),
        "cancel": _("{number}: cancelled."),
        "confirm": _("{number}: thank you for confirming. The request is closed."),
        "reopen": _("{number}: reopened and back with the team."),
        "reopen_to_queue": _("{number}: reopened and back with the team."),
        "release": _("{number}: waiting for another technician."),
        "auto_close": _("{number}: closed automatically, as it was resolved and not reopened."),
        "close": _("{number}: closed. Reason: {note}"),
    }
    return templates[event].format(number=number, name=name, note=text)


def relay_to_resident(_: Gettext, number: str, staff_name: str, text: str) -> str:
    return _("💬 {name} about <b>{number}</b>:").format(name=h(staff_name), number=number) + (
        "\n" + h(clip(text, 3500))
    )


def relay_to_group(_: Gettext, number: str, text: str) -> str:
    return _("💬 Resident about <b>{number}</b>:").format(number=number) + "\n" + h(clip(text, 3500))


def ticket_list_line(_: Gettext, ticket: "Ticket | TicketLine", tz: str) -> str:
    return f"{ticket.number} · {kind_label(_, ticket.kind)} · {status_label(_, ticket.status)} · {local_time(ticket.created_at, tz)}"


def ticket_details(
    _: Gettext,
    ticket: Ticket,
    locale: str,
    tz: str,
    events: Sequence[TicketEvent],
) -> str:
    head = f"<b>{ticket.number}</b> · {kind_label(_, ticket.kind)}"
    if ticket.category is not None:
        head += f" · {category_name(ticket, locale)}"
    lines = [
        head,
        _("Status: {status}").format(status=status_label(_, ticket.status)),
        where_line(_, ticket),
        _("Photos: {count}").format(count=ticket.photo_count),
        "",
        h(clip(ticket.description, 1500)),
        "",
        _("<b>History</b>"),
    ]
    history: list[str] = []
    room = HISTORY_BUDGET - sum(utf16_len(html_to_plain(line)) + 1 for line in lines)
    for event in reversed(events):  # newest first, until the message is full
        line = f"{local_time(event.at, tz)} — {event_label(_, event.event)}"
        if event.note and event.event != "note":
            line += f": {h(clip(event.note, 200))}"
        room -= utf16_len(html_to_plain(line)) + 1
        if room < 0:
            history.append("…")
            break
        history.append(line)
    return "\n".join(lines + list(reversed(history)))


def category_button(category: Category, locale: str) -> str:
    prefix = "🚨 " if category.emergency else ""
    return prefix + category.label(locale)


def time_text(moment: datetime | None, tz: str) -> str:
    return local_time(moment, tz)
