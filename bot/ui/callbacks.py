"""Typed callback data, one class per action family; every payload stays under 64 bytes."""

from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

# Ids the database can hold (PostgreSQL's INTEGER); anything else does not parse, so a forged
# press is answered as an out-of-date button instead of reaching a query.
Id = Annotated[int, Field(ge=0, le=2**31 - 1)]


class StaffAct(CallbackData, prefix="sa"):
    """A button on a department card: an event on a ticket."""

    event: str
    ticket_id: Id


class ResidentAct(CallbackData, prefix="ra"):
    """A button a resident presses about one of their tickets."""

    action: str  # view, comment, cancel, confirm, notfixed, photos
    ticket_id: Id


class MyPage(CallbackData, prefix="mp"):
    page: Id


class VerifyAct(CallbackData, prefix="va"):
    decision: str  # approve, reject
    verification_id: Id


class Pick(CallbackData, prefix="pk"):
    """A choice inside the resident's dialogs: which field, which value."""

    field: str  # kind, category, place, emergency, building, photos, submit, lang
    value: str


class LeadAct(CallbackData, prefix="la"):
    """Buttons for dispatchers and managers: assign a ticket, mark a callback done."""

    action: str  # assign, assign_to, called
    ticket_id: Id
    staff_id: Id = 0


class PollAnswer(CallbackData, prefix="pa"):
    """A satisfaction poll answer: which question, which score (0 = skipped)."""

    poll_id: Id
    question: str  # overall, attitude, quality, timeliness, comment
    score: Id


class CallbackDone(CallbackData, prefix="cd"):
    """ "Called back" on the dispatcher's list."""

    callback_id: Id
