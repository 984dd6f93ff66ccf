"""Emergencies: safety advice first, registered at once, details added afterwards."""

from tests.e2e.harness import PLUMBING, Stack


async def test_gas_smell_shows_advice_and_registers_at_once(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    await stack.feed(alice.press(stack.last(alice.id), "Repair"))
    await stack.feed(alice.press(stack.last(alice.id), "Gas smell"))
    await stack.feed(alice.press(stack.last(alice.id), "My flat"))
    messages = stack.texts(alice.id)
    assert any("Leave the flat now" in m and "0800 111 999" in m for m in messages)
    assert any("R-000001" in m for m in messages)

    card = stack.card(PLUMBING, "R-000001")
    assert "EMERGENCY" in card.content
    assert "Claim by: 2026-11-24 10:05" in card.content

    await stack.feed(alice.text("Strong smell in the kitchen near the boiler"))
    await stack.feed(alice.photo())
    await stack.feed(alice.press(stack.last(alice.id), "Done"))
    card = stack.card(PLUMBING, "R-000001")
    assert "near the boiler" in card.content and "Photos: 1" in card.content
    assert any(m.media.get("photo") for m in stack.tg.bot_messages(PLUMBING))


async def test_normal_repair_marked_emergency_by_resident(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    await stack.feed(alice.press(stack.last(alice.id), "Repair"))
    await stack.feed(alice.press(stack.last(alice.id), "Light out"))
    await stack.feed(alice.press(stack.last(alice.id), "Common area"))
    await stack.feed(alice.text("Stairwell, 2nd floor, Block A"))
    await stack.feed(alice.press(stack.last(alice.id), "Yes, emergency"))
    await stack.feed(alice.text("Completely dark stairwell"))
    await stack.feed_together(alice.album(3))
    assert sum("Photo received" in t for t in stack.texts(alice.id)) == 1  # one album, one answer
    await stack.feed(alice.press(stack.last(alice.id), "Done"))
    summary = stack.last(alice.id).content
    assert "Emergency" in summary and "Photos: 3" in summary
    await stack.feed(alice.press(stack.last(alice.id), "Submit"))
    card = stack.card(-1002, "R-000001")
    assert "EMERGENCY" in card.content and "Common area: Stairwell, 2nd floor, Block A" in card.content
