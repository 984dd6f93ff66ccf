"""The whole loop a repair goes through, as residents and technicians see it."""

from tests.e2e.harness import PLUMBING, Stack


async def test_resident_files_repair_and_technician_completes_it(stack: Stack) -> None:
    alice = await stack.register("alice")
    assert "registered to flat 101, Block A" in stack.last(alice.id).content

    number = await stack.file_repair(alice, description="Kitchen tap <drips> & hisses")
    assert number == "R-000001"
    confirmation = stack.last(alice.id).content
    assert "R-000001" in confirmation and "within 30 min" in confirmation

    card = stack.card(PLUMBING, number)
    assert "Kitchen tap <drips> & hisses" in card.content
    assert "Building Block A, flat 101" in card.content
    assert "+447700900001" not in card.content and "Alice" not in card.content

    sam = await stack.staff("sam")
    await stack.feed(sam.press(card, "Accept"))
    card = stack.card(PLUMBING, number)
    assert "Taken by Sam Carter" in card.content
    assert "On my way" in str(card.reply_markup)
    brief = stack.last(sam.id).content
    assert "Alice Brown" in brief and "+447700900001" in brief
    assert "Sam Carter has taken your request" in stack.last(alice.id).content

    await stack.feed(sam.press(card, "On my way"))
    assert "is on the way" in stack.last(alice.id).content
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Start work"))
    assert "work has started" in stack.last(alice.id).content

    await stack.feed(sam.press(stack.card(PLUMBING, number), "Done"))
    assert "completion note" in stack.last(sam.id).content
    await stack.feed(sam.text("Replaced the washer"))
    await stack.feed(sam.press(stack.last(sam.id), "Skip"))
    resolved = stack.last(alice.id)
    assert "resolved by Sam Carter" in resolved.content and "Replaced the washer" in resolved.content

    await stack.feed(alice.press(resolved, "Yes, fixed"))
    assert "closed" in stack.last(alice.id).content
    assert "Status: closed" in stack.card(PLUMBING, number).content
