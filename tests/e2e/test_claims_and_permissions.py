"""Claims under contention, and buttons pressed by people who may not press them."""

import re

from bot.ui.callbacks import ResidentAct, StaffAct
from tests.e2e.harness import PLUMBING, Stack

RACES = 50


async def test_two_technicians_accept_at_once_exactly_one_wins(stack: Stack) -> None:
    alice = await stack.register("alice")
    sam, lee = await stack.staff("sam"), await stack.staff("lee")
    numbers = [await stack.file_quick(alice, f"Drip number {i}") for i in range(RACES)]
    for number in numbers:
        card = stack.card(PLUMBING, number)
        answers_before = len(stack.tg.callback_answers)
        await stack.feed_together([sam.press(card, "Accept"), lee.press(card, "Accept")])
        card = stack.card(PLUMBING, number)
        winners = re.findall(r"Taken by (Sam Carter|Lee Wong)", card.content)
        assert len(winners) == 1, card.content
        answers = [a["text"] for a in stack.tg.callback_answers[answers_before:]]
        assert len(answers) == 2
        assert sum("Already taken by" in a for a in answers) == 1
        assert any(f"Already taken by {winners[0]}" in a for a in answers)
    briefs = [m for uid in (1001, 1002) for m in stack.texts(uid) if "You took" in m]
    assert len(briefs) == RACES  # one private brief per request, never two


async def test_only_the_claimant_or_a_lead_moves_a_claimed_card(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    sam, lee, eve = await stack.staff("sam"), await stack.staff("lee"), await stack.staff("eve")
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
    before = stack.card(PLUMBING, number).content

    await stack.feed(lee.press(stack.card(PLUMBING, number), "On my way"))
    assert "Only the person who took it" in stack.alerts()[-1]
    await stack.feed(eve.press(stack.card(PLUMBING, number), "Release"))  # another department
    assert "Only the person who took it" in stack.alerts()[-1]
    assert stack.card(PLUMBING, number).content == before

    dan = stack.person("dan")  # dispatcher
    await stack.feed(dan.press(stack.card(PLUMBING, number), "Release"))
    assert "Status: new" in stack.card(PLUMBING, number).content


async def test_forged_callbacks_change_nothing(stack: Stack) -> None:
    alice = await stack.register("alice")
    bo = await stack.register("bo")
    number = await stack.file_quick(alice, "Tap drips")
    ticket_id = await stack.ticket_id(number)
    card = stack.card(PLUMBING, number)
    before = card.content
    forged = [
        StaffAct(event="claim", ticket_id=ticket_id).pack(),
        StaffAct(event="done", ticket_id=ticket_id).pack(),
        StaffAct(event="bogus", ticket_id=ticket_id).pack(),
        StaffAct(event="claim", ticket_id=999999).pack(),
        ResidentAct(action="cancel", ticket_id=ticket_id).pack(),
        ResidentAct(action="confirm", ticket_id=ticket_id).pack(),
        "sa:claim",
        "garbage",
        "ra:view:notanumber",
    ]
    own_chat = stack.last(bo.id)
    for data in forged:
        await stack.feed(bo.press_data(own_chat, data))  # a resident replaying staff data
    await stack.feed(bo.press_data(own_chat, ResidentAct(action="view", ticket_id=ticket_id).pack()))
    assert "not yours" in stack.alerts()[-1]
    assert stack.card(PLUMBING, number).content == before
    assert all(not m.startswith(number) for m in stack.texts(bo.id))


async def test_resident_cancels_before_work_starts(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    await stack.feed(alice.command("my"))
    await stack.feed(alice.press(stack.last(alice.id), number))
    details = stack.last(alice.id)
    assert "History" in details.content and "registered" in details.content
    assert "Leaking tap" in details.content and "Building " in details.content  # its category, flat
    await stack.feed(alice.press(details, "Cancel request"))
    assert "Status: cancelled" in stack.card(PLUMBING, number).content
    assert stack.card(PLUMBING, number).reply_markup is None


async def test_dispatcher_rejects_with_a_reason(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    sam = await stack.staff("sam")
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Reject"))
    assert "Only the person who took it" in stack.alerts()[-1]
    dan = await stack.staff("dan")
    await stack.feed(dan.press(stack.card(PLUMBING, number), "Reject"))
    await stack.feed(dan.text("This is the landlord's responsibility"))
    assert "rejected. Reason: This is the landlord" in stack.last(alice.id).content
    assert "Status: rejected" in stack.card(PLUMBING, number).content


async def test_not_fixed_reopens_to_the_same_technician(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    sam = await stack.staff("sam")
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Done"))
    await stack.feed(sam.text("Fixed"))
    await stack.feed(sam.press(stack.last(sam.id), "Skip"))
    await stack.feed(alice.press(stack.last(alice.id), "Not fixed"))
    await stack.feed(alice.text("Still dripping at night"))
    card = stack.card(PLUMBING, number)
    assert "Taken by Sam Carter" in card.content and "Status: taken by a technician" in card.content
    assert any("Still dripping at night" in t for t in stack.texts(PLUMBING))
    assert "reopened" in stack.last(alice.id).content
