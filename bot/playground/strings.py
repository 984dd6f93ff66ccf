"""The playground page's own labels, translated from the gettext catalogs like the bot's texts
(the page asks ``/strings?lang=..`` and never shows a string of its own)."""

from collections.abc import Callable


def _(message: str) -> str:
    """Marks a msgid for extraction; translated later by ``page_strings``."""
    return message


LABELS = {
    "title": _("Frontdoor playground"),
    "subtitle": _("One person plays every role: a resident, a department group and the managers."),
    "resident": _("Resident"),
    "group": _("Department group"),
    "managers": _("Managers' chat"),
    "as": _("As"),
    "department": _("Department"),
    "language": _("Language"),
    "page_language": _("Page language"),
    "clock": _("Clock"),
    "advance": _("Advance"),
    "minutes": _("minutes"),
    "hours": _("hours"),
    "days": _("days"),
    "group_chat": _("Group"),
    "private_chat": _("Private chat with the bot"),
    "message": _("Message"),
    "send": _("Send"),
    "photo": _("Attach a photo"),
    "caption": _("Caption (optional)"),
    "reply": _("Reply"),
    "replying": _("Replying to"),
    "cancel": _("Cancel"),
    "start": _("Start"),
    "new_resident": _("New resident…"),
    "name": _("Name"),
    "phone": _("Phone"),
    "register": _("Add"),
    "edited": _("edited"),
    "download": _("Download"),
    "ok": _("OK"),
    "share_contact": _("Share contact"),
    "empty": _("No messages here yet."),
    "hint": _("Type /start in the resident's chat to begin, then /new to file a request."),
    "disconnected": _("Connection lost, reconnecting…"),
    "failed": _("The action failed:"),
    "estate_time": _("Estate time"),
}


def page_strings(gettext: Callable[[str], str]) -> dict[str, str]:
    return {key: gettext(message) for key, message in LABELS.items()}
