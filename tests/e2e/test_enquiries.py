"""Complaints, questions and the like: acknowledged and answered by customer service."""

from tests.e2e.harness import CUSTOMER_SERVICE, PLUMBING, Stack


async def test_complaint_is_acknowledged_answered_and_confirmed(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    await stack.feed(alice.press(stack.last(alice.id), "Complaint"))
    await stack.feed(alice.press(stack.last(alice.id), "Noise"))
    await stack.feed(alice.text("Loud music after midnight from flat 202"))
    await stack.feed(alice.press(stack.last(alice.id), "Skip"))
    await stack.feed(alice.press(stack.last(alice.id), "Submit"))
    confirmation = stack.last(alice.id).content
    assert "C-000001" in confirmation and "acknowledge it within 4 h" in confirmation

    card = stack.card(CUSTOMER_SERVICE, "C-000001")
    assert "Loud music" in card.content
    assert not stack.tg.bot_messages(PLUMBING)

    cara = await stack.staff("cara")
    await stack.feed(cara.press(card, "Acknowledge"))
    assert "acknowledged by Cara Diaz" in stack.last(alice.id).content
    await stack.feed(cara.press(stack.card(CUSTOMER_SERVICE, "C-000001"), "Answer"))
    await stack.feed(cara.text("We have spoken to the neighbours; quiet hours are 23:00-07:00."))
    answer = stack.last(alice.id)
    assert "answer from Cara Diaz" in answer.content and "spoken to the neighbours" in answer.content

    await stack.feed(alice.press(answer, "Yes, thank you"))
    assert "Status: closed" in stack.card(CUSTOMER_SERVICE, "C-000001").content


async def test_question_without_categories_of_its_own_still_reaches_customer_service(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    await stack.feed(alice.press(stack.last(alice.id), "Praise"))
    await stack.feed(alice.text("The new concierge is wonderful"))
    await stack.feed(alice.press(stack.last(alice.id), "Skip"))
    await stack.feed(alice.press(stack.last(alice.id), "Submit"))
    assert "P-000001" in stack.last(alice.id).content
    assert "wonderful" in stack.card(CUSTOMER_SERVICE, "P-000001").content
