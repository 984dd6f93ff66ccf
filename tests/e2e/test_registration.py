"""Signing up: phone matched against the registry, office verification, invitations."""

from datetime import timedelta

from tests.e2e.harness import CUSTOMER_SERVICE, Stack


async def test_start_greets_in_telegram_language_and_asks_for_phone(stack: Stack) -> None:
    person = stack.tg.person(3001, "Wei", "zh-hk")
    await stack.feed(person.start())
    message = stack.last(person.id)
    assert "歡迎" in message.content
    assert message.reply_markup is not None and "request_contact" in str(message.reply_markup)


async def test_someone_elses_contact_is_refused(stack: Stack) -> None:
    alice = stack.person("alice")
    await stack.feed(alice.start())
    await stack.feed(alice.share_contact(user_id=2002))
    assert "your own phone number" in stack.last(alice.id).content
    await stack.feed(alice.text("+447700900001"))
    assert "Share my phone number" in stack.last(alice.id).content


async def test_unknown_phone_goes_to_customer_service_for_approval(stack: Stack) -> None:
    stranger = stack.tg.person(3002, "Nora", "en", "+447700955555")
    await stack.feed(stranger.start())
    await stack.feed(stranger.share_contact())
    await stack.feed(stranger.press(stack.last(stranger.id), "Block B"))
    await stack.feed(stranger.text("99"))
    assert "no flat 99" in stack.last(stranger.id).content
    await stack.feed(stranger.text("7"))
    assert "will check your flat" in stack.last(stranger.id).content

    card = stack.last(CUSTOMER_SERVICE)
    assert "Flat: 7, Block B" in card.content
    assert "955555" not in card.content  # groups never see the full phone

    tech = stack.person("sam")  # plumbing technician: not customer service
    await stack.feed(tech.press(card, "Approve"))
    assert "Only customer service" in stack.alerts()[-1]

    cara = stack.person("cara")
    await stack.feed(cara.press(card, "Approve"))
    assert "confirmed" in stack.last(stranger.id).content
    assert "Approved by Cara" in stack.last(CUSTOMER_SERVICE).content
    await stack.feed(stranger.command("new"))
    assert "What would you like to file?" in stack.last(stranger.id).content


async def test_invitation_link_verifies_to_its_flat_once(stack: Stack) -> None:
    flat_id = await stack.flat_id("A", "205")
    payload = await stack.app.services.residents.create_invitation(flat_id, timedelta(days=7))
    first = stack.tg.person(3003, "Omar", "en")
    await stack.feed(first.start(payload))
    assert "registered to flat 205, Block A" in stack.last(first.id).content
    second = stack.tg.person(3004, "Pia", "en")
    await stack.feed(second.start(payload))
    assert "not valid any more" in stack.tg.bot_messages(second.id)[0].content


async def test_expired_invitation_is_refused(stack: Stack) -> None:
    payload = await stack.app.services.residents.create_invitation(await stack.flat_id("B", "3"), timedelta(hours=1))
    stack.clock.advance(hours=2)
    person = stack.tg.person(3005, "Raj", "en")
    await stack.feed(person.start(payload))
    assert "not valid any more" in stack.tg.bot_messages(person.id)[0].content
