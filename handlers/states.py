"""Dialog states."""

from aiogram.fsm.state import State, StatesGroup


class Onboarding(StatesGroup):
    phone = State()
    building = State()
    flat = State()


class NewRequest(StatesGroup):
    kind = State()
    category = State()
    place = State()
    place_text = State()
    emergency = State()
    description = State()
    photos = State()
    confirm = State()


class EmergencyDetails(StatesGroup):
    description = State()
    photos = State()


class ResidentReply(StatesGroup):
    comment = State()
    not_fixed = State()


class StaffPrompt(StatesGroup):
    done_note = State()
    done_photos = State()
    hold_reason = State()
    reject_reason = State()
    answer_text = State()


class PollComment(StatesGroup):
    text = State()


class Announce(StatesGroup):
    audience = State()
    buildings = State()
    flats = State()
    text = State()
    urgency = State()
    when = State()
    when_time = State()
    preview = State()
