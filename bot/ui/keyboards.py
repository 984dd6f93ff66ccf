"""Keyboard builders. Every inline button carries typed callback data."""

from collections.abc import Sequence

from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)

from bot.domain.kinds import TicketKind
from bot.domain.lifecycle import Event, Family, Status, family_of
from bot.i18n import Gettext
from bot.ui.callbacks import MyPage, Pick, ResidentAct, StaffAct, VerifyAct
from bot.ui.labels import kind_label

LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文", "ru": "Русский"}


def _rows(buttons: Sequence[InlineKeyboardButton], width: int) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + width]) for i in range(0, len(buttons), width)]


def inline(buttons: Sequence[InlineKeyboardButton], width: int = 2) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, width))


def pick_button(text: str, field: str, value: str | int) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=Pick(field=field, value=str(value)).pack())


def menu_labels(_: Gettext) -> dict[str, str]:
    return {
        "new": _("📝 New request"),
        "my": _("📋 My requests"),
        "language": _("🌐 Language"),
        "help": _("❓ Help"),
    }


def main_menu(_: Gettext) -> ReplyKeyboardMarkup:
    labels = menu_labels(_)
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=labels["new"]), KeyboardButton(text=labels["my"])],
            [KeyboardButton(text=labels["language"]), KeyboardButton(text=labels["help"])],
        ],
        resize_keyboard=True,
        is_persistent=True,
    )


def share_phone(_: Gettext) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def kinds(_: Gettext) -> InlineKeyboardMarkup:
    return inline([pick_button(kind_label(_, k), "kind", k.value) for k in TicketKind], 2)


def choices(
    field: str, options: Sequence[tuple[str | int, str]], width: int = 2
) -> InlineKeyboardMarkup:
    return inline([pick_button(text, field, value) for value, text in options], width)


def places(_: Gettext) -> InlineKeyboardMarkup:
    return choices("place", [("flat", _("🏠 My flat")), ("common", _("🏢 Common area"))])


def emergency_question(_: Gettext) -> InlineKeyboardMarkup:
    return choices("emergency", [("yes", _("🚨 Yes, emergency")), ("no", _("No"))])


def photo_step(_: Gettext, have_photos: bool) -> InlineKeyboardMarkup:
    if have_photos:
        return choices("photos", [("done", _("✅ Done"))])
    return choices("photos", [("skip", _("Skip"))])


def submit(_: Gettext) -> InlineKeyboardMarkup:
    return choices("submit", [("yes", _("✅ Submit")), ("no", _("✖️ Cancel"))])


def languages() -> InlineKeyboardMarkup:
    return choices("lang", list(LANGUAGE_NAMES.items()))


def staff_card(_: Gettext, kind: str, status: str) -> list[tuple[Event, str]]:
    """Which buttons a card shows in a status (who may press them is checked on press)."""
    s = Status(status)
    if family_of(TicketKind(kind)) is Family.REPAIR:
        table = {
            Status.NEW: [(Event.CLAIM, _("✋ Accept")), (Event.REJECT, _("⛔ Reject"))],
            Status.CLAIMED: [
                (Event.ON_MY_WAY, _("🚗 On my way")),
                (Event.START_WORK, _("🔨 Start work")),
                (Event.HOLD, _("⏸ On hold")),
                (Event.DONE, _("✅ Done")),
                (Event.RELEASE, _("↩️ Release")),
            ],
            Status.ON_THE_WAY: [
                (Event.START_WORK, _("🔨 Start work")),
                (Event.HOLD, _("⏸ On hold")),
                (Event.DONE, _("✅ Done")),
                (Event.RELEASE, _("↩️ Release")),
            ],
            Status.IN_PROGRESS: [
                (Event.HOLD, _("⏸ On hold")),
                (Event.DONE, _("✅ Done")),
                (Event.RELEASE, _("↩️ Release")),
            ],
            Status.ON_HOLD: [
                (Event.START_WORK, _("🔨 Start work")),
                (Event.DONE, _("✅ Done")),
                (Event.RELEASE, _("↩️ Release")),
            ],
        }
    else:
        table = {
            Status.NEW: [
                (Event.ACKNOWLEDGE, _("👀 Acknowledge")),
                (Event.ANSWER, _("✍️ Answer")),
                (Event.REJECT, _("⛔ Reject")),
            ],
            Status.ACKNOWLEDGED: [(Event.ANSWER, _("✍️ Answer")), (Event.RELEASE, _("↩️ Release"))],
        }
    return table.get(s, [])


def card_markup(_: Gettext, ticket_id: int, kind: str, status: str) -> InlineKeyboardMarkup | None:
    buttons = [
        InlineKeyboardButton(
            text=text, callback_data=StaffAct(event=event.value, ticket_id=ticket_id).pack()
        )
        for event, text in staff_card(_, kind, status)
    ]
    return inline(buttons, 2) if buttons else None


def confirm_fix(_: Gettext, ticket_id: int, kind: str) -> InlineKeyboardMarkup:
    if kind == TicketKind.REPAIR:
        yes, no = _("✅ Yes, fixed"), _("❌ Not fixed")
    else:
        yes, no = _("✅ Yes, thank you"), _("❌ Not answered")
    return inline(
        [
            InlineKeyboardButton(
                text=yes, callback_data=ResidentAct(action="confirm", ticket_id=ticket_id).pack()
            ),
            InlineKeyboardButton(
                text=no, callback_data=ResidentAct(action="notfixed", ticket_id=ticket_id).pack()
            ),
        ]
    )


def resident_ticket_actions(
    _: Gettext, ticket_id: int, can_comment: bool, can_cancel: bool, back_page: int
) -> InlineKeyboardMarkup:
    buttons: list[InlineKeyboardButton] = []
    if can_comment:
        buttons.append(
            InlineKeyboardButton(
                text=_("💬 Add comment"),
                callback_data=ResidentAct(action="comment", ticket_id=ticket_id).pack(),
            )
        )
    if can_cancel:
        buttons.append(
            InlineKeyboardButton(
                text=_("✖️ Cancel request"),
                callback_data=ResidentAct(action="cancel", ticket_id=ticket_id).pack(),
            )
        )
    buttons.append(
        InlineKeyboardButton(text=_("⬅️ Back"), callback_data=MyPage(page=back_page).pack())
    )
    return inline(buttons, 2)


def ticket_list(
    entries: Sequence[tuple[int, str]], page: int, pages: int, _: Gettext
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=text, callback_data=ResidentAct(action="view", ticket_id=tid).pack()
            )
        ]
        for tid, text in entries
    ]
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(text=_("⬅️ Newer"), callback_data=MyPage(page=page - 1).pack())
        )
    if page + 1 < pages:
        nav.append(
            InlineKeyboardButton(text=_("Older ➡️"), callback_data=MyPage(page=page + 1).pack())
        )
    if nav:
        rows.append(nav)
    return InlineKeyboardMarkup(inline_keyboard=rows)


def verification(_: Gettext, verification_id: int) -> InlineKeyboardMarkup:
    return inline(
        [
            InlineKeyboardButton(
                text=_("✅ Approve"),
                callback_data=VerifyAct(decision="approve", verification_id=verification_id).pack(),
            ),
            InlineKeyboardButton(
                text=_("⛔ Reject"),
                callback_data=VerifyAct(decision="reject", verification_id=verification_id).pack(),
            ),
        ]
    )


def poll_markup(_: Gettext, poll_id: int, question: str) -> InlineKeyboardMarkup:
    """Stars for a poll question; the three quick questions and the comment may be skipped."""
    from bot.ui.callbacks import PollAnswer

    if question == "comment":
        return inline(
            [
                InlineKeyboardButton(
                    text=_("Skip"),
                    callback_data=PollAnswer(poll_id=poll_id, question=question, score=0).pack(),
                )
            ]
        )
    stars = [
        InlineKeyboardButton(
            text="⭐" * score,
            callback_data=PollAnswer(poll_id=poll_id, question=question, score=score).pack(),
        )
        for score in range(1, 6)
    ]
    rows = [stars[:3], stars[3:]]
    if question != "overall":
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("Skip"),
                    callback_data=PollAnswer(poll_id=poll_id, question=question, score=0).pack(),
                )
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def technicians(ticket_id: int, options: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    from bot.ui.callbacks import LeadAct

    return inline(
        [
            InlineKeyboardButton(
                text=name,
                callback_data=LeadAct(
                    action="assign_to", ticket_id=ticket_id, staff_id=staff_id
                ).pack(),
            )
            for staff_id, name in options
        ],
        2,
    )


def called_back(_: Gettext, entries: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    from bot.ui.callbacks import CallbackDone

    return inline(
        [
            InlineKeyboardButton(
                text=_("✅ Called back: {number}").format(number=number),
                callback_data=CallbackDone(callback_id=callback_id).pack(),
            )
            for callback_id, number in entries
        ],
        1,
    )
