"""Names of kinds, statuses, events and spans, as users read them."""

from bot.domain.kinds import TicketKind
from bot.domain.lifecycle import Event, Status
from bot.domain.spans import Span
from bot.i18n import Gettext


def kind_label(_: Gettext, kind: TicketKind | str) -> str:
    labels = {
        TicketKind.REPAIR: _("🔧 Repair"),
        TicketKind.COMPLAINT: _("😠 Complaint"),
        TicketKind.SUGGESTION: _("💡 Suggestion"),
        TicketKind.QUESTION: _("❓ Question"),
        TicketKind.PRAISE: _("👏 Praise"),
    }
    return labels[TicketKind(kind)]


def status_label(_: Gettext, status: Status | str) -> str:
    labels = {
        Status.NEW: _("new"),
        Status.CLAIMED: _("taken by a technician"),
        Status.ON_THE_WAY: _("technician on the way"),
        Status.IN_PROGRESS: _("work in progress"),
        Status.ON_HOLD: _("on hold"),
        Status.RESOLVED: _("resolved, awaiting your confirmation"),
        Status.ACKNOWLEDGED: _("acknowledged"),
        Status.ANSWERED: _("answered, awaiting your confirmation"),
        Status.CLOSED: _("closed"),
        Status.REJECTED: _("rejected"),
        Status.CANCELLED: _("cancelled"),
    }
    return labels[Status(status)]


def event_label(_: Gettext, event: str) -> str:
    labels = {
        "registered": _("registered"),
        "comment": _("comment"),
        "staff_message": _("message from staff"),
        "note": _("internal note"),
        Event.CLAIM: _("taken"),
        Event.ASSIGN: _("assigned"),
        Event.ON_MY_WAY: _("technician on the way"),
        Event.START_WORK: _("work started"),
        Event.HOLD: _("put on hold"),
        Event.RESUME: _("resumed"),
        Event.DONE: _("resolved"),
        Event.RELEASE: _("released back to the queue"),
        Event.ACKNOWLEDGE: _("acknowledged"),
        Event.ANSWER: _("answered"),
        Event.REJECT: _("rejected"),
        Event.CANCEL: _("cancelled"),
        Event.CONFIRM: _("confirmed by the resident"),
        Event.REOPEN: _("reopened"),
        Event.REOPEN_TO_QUEUE: _("reopened"),
        Event.AUTO_CLOSE: _("closed automatically"),
        Event.CLOSE: _("closed"),
    }
    return labels.get(event, event)


def span_label(_: Gettext, span: Span) -> str:
    if span.is_working:
        return _("{n} working day(s)").format(n=span.working_days)
    seconds = span.seconds
    if seconds % 86400 == 0:
        return _("{n} d").format(n=seconds // 86400)
    if seconds % 3600 == 0:
        return _("{n} h").format(n=seconds // 3600)
    if seconds % 60 == 0:
        return _("{n} min").format(n=seconds // 60)
    return _("{n} s").format(n=seconds)
