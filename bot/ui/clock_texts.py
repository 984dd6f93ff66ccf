"""Texts of the clock: reminders, escalations, polls, digests."""

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from bot.i18n import Gettext
from bot.ui.format import clip, h, local_time
from storage.models import Ticket

if TYPE_CHECKING:
    from bot.services.digests import Figures

POLL_QUESTIONS = ("overall", "attitude", "quality", "timeliness")


def claim_reminder(_: Gettext, ticket: Ticket, tz: str) -> str:
    return _("⏰ <b>{number}</b> is still waiting to be taken. Claim by {time}.").format(
        number=ticket.number, time=local_time(ticket.claim_due_at, tz)
    )


def overdue_alert(_: Gettext, ticket: Ticket, level: str, tz: str) -> str:
    titles = {
        "claim": _("🚨 <b>Overdue</b>: {number} was not taken by {time}."),
        "on_site": _("🚨 <b>Overdue</b>: nobody reached {number} on site by {time}."),
        "resolve": _("🚨 <b>Overdue</b>: {number} was not resolved by {time}."),
    }
    due = {
        "claim": ticket.claim_due_at,
        "on_site": ticket.on_site_due_at,
        "resolve": ticket.resolve_due_at,
    }
    lines = [
        titles[level].format(number=ticket.number, time=local_time(due[level], tz)),
        _("Department: {department}").format(department=h(ticket.department.name)),
        h(clip(ticket.description, 500)),
    ]
    if ticket.assignee is not None:
        lines.append(
            _("Taken by {name} at {time}").format(
                name=h(ticket.assignee.name), time=local_time(ticket.claimed_at, tz)
            )
        )
    return "\n".join(lines)


def technician_reminder(_: Gettext, ticket: Ticket, tz: str) -> str:
    return _(
        "⏰ {number} should have been started by {time}. Please press “On my way” or “Start work” on its card."
    ).format(number=ticket.number, time=local_time(ticket.on_site_due_at, tz))


def resumed(_: Gettext, ticket: Ticket) -> str:
    return _("▶️ {number} is back from hold today, as planned.").format(number=ticket.number)


def confirm_reminder(_: Gettext, ticket: Ticket) -> str:
    return _(
        "{number} was resolved. Is everything in order? If we do not hear from you, it will be closed automatically."
    ).format(number=f"<b>{ticket.number}</b>")


def poll_question(_: Gettext, number: str, question: str) -> str:
    texts = {
        "overall": _("⭐ How satisfied are you with how {number} was handled?"),
        "attitude": _("How was the staff's attitude?"),
        "quality": _("How was the quality of the work?"),
        "timeliness": _("How was the timeliness?"),
        "comment": _("Anything you would like to add? Write a comment, or press “Skip”."),
    }
    return texts[question].format(number=f"<b>{number}</b>")


def poll_reminder(_: Gettext, number: str) -> str:
    return _("A reminder: please rate how {number} was handled — it takes a few seconds.").format(
        number=f"<b>{number}</b>"
    )


def poll_thanks(_: Gettext) -> str:
    return _("Thank you for your feedback!")


def low_rating_alert(_: Gettext, ticket: Ticket, score: int, comment: str | None) -> str:
    lines = [
        _("⚠️ <b>Low rating</b>: {number} was rated {score} of 5.").format(
            number=ticket.number, score=score
        ),
        _("Department: {department}").format(department=h(ticket.department.name)),
    ]
    if comment:
        lines.append(_("Resident's comment: {comment}").format(comment=h(clip(comment, 1500))))
    lines.append(_("A follow-up call is due today."))
    return "\n".join(lines)


def not_fixed_alert(_: Gettext, ticket: Ticket, comment: str | None) -> str:
    return "\n".join(
        [
            _("⚠️ <b>Not fixed</b>: the resident reopened {number}.").format(number=ticket.number),
            _("Department: {department}").format(department=h(ticket.department.name)),
            _("Resident's comment: {comment}").format(comment=h(clip(comment or "", 1500))),
            _("A follow-up call is due today."),
        ]
    )


def callbacks_list(_: Gettext, lines: Sequence[str]) -> str:
    if not lines:
        return _("No callbacks are due.")
    return _("📞 <b>Callbacks due</b>") + "\n" + "\n".join(lines)


def callback_line(_: Gettext, number: str, name: str, phone: str, due: str, reason: str) -> str:
    reasons = {"after_repair": _("after the repair"), "follow_up": _("follow-up")}
    return _("{number} · {name} · {phone} · due {due} ({reason})").format(
        number=number, name=h(name), phone=h(phone), due=due, reason=reasons.get(reason, reason)
    )


def digest(_: Gettext, day: date, data: "Figures", weekly: bool) -> str:
    if weekly:
        title = _("📊 <b>Weekly summary</b> from {day}").format(day=day.isoformat())
    else:
        title = _("📊 <b>Daily digest</b> for {day}").format(day=day.isoformat())
    lines = [title, _("New / closed by department:")]
    lines += [f"• {h(name)}: {new} / {closed}" for name, new, closed in data.per_department]
    lines.append(_("Open and overdue now: {count}").format(count=data.overdue_now))
    if data.answers:
        share = round(100 * data.satisfied / data.answers)
        lines.append(
            _("Satisfaction, last 7 days: {share}% (answers: {count}, target 95%)").format(
                share=share, count=data.answers
            )
        )
    else:
        lines.append(_("Satisfaction, last 7 days: no answers yet"))
    lines.append(_("Callbacks due today: {count}").format(count=data.callbacks_due))
    if weekly and data.callbacks_total:
        lines.append(
            _("Repairs called back within 48 h: {share}% (target 100%)").format(
                share=round(100 * data.callbacks_on_time / data.callbacks_total)
            )
        )
    return "\n".join(lines)
