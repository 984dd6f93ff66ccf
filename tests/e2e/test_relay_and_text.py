"""Conversations between resident and staff, and text that tries to break messages."""

from tests.e2e.harness import PLUMBING, Stack

HOSTILE = [
    "<b>bold?</b> & <script>alert(1)</script> <a href='x'>",
    "Tom & Jerry <3 >_< &amp; &lt;",
    ("😀🚿💧 " * 50).strip(),
    "x" * 1990 + "<&>",
]


async def test_replies_are_relayed_both_ways_and_notes_stay_internal(stack: Stack) -> None:
    alice = await stack.register("alice")
    number = await stack.file_quick(alice, "Tap drips")
    sam = await stack.staff("sam")
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))

    notice = stack.last(alice.id)
    await stack.feed(alice.text("I am home after 5pm", reply_to=notice))
    relayed = stack.last(PLUMBING)
    assert "I am home after 5pm" in relayed.content
    assert relayed.reply_to_message_id == stack.card(PLUMBING, number).message_id

    await stack.feed(sam.text("I will come at 6pm", chat_id=PLUMBING, reply_to=stack.card(PLUMBING, number)))
    assert "Sam Carter about" in stack.last(alice.id).content and "6pm" in stack.last(alice.id).content

    before = len(stack.texts(alice.id))
    await stack.feed(sam.text("!resident sounds annoyed", chat_id=PLUMBING, reply_to=relayed))
    assert len(stack.texts(alice.id)) == before
    assert "Internal note saved" in stack.last(PLUMBING).content
    assert "Messages: 2" in stack.card(PLUMBING, number).content

    stranger = stack.tg.person(4000, "Mallory", "en")
    await stack.feed(stranger.text("hi resident", chat_id=PLUMBING, reply_to=stack.card(PLUMBING, number)))
    assert len(stack.texts(alice.id)) == before


async def test_hostile_text_goes_through_every_message_that_shows_it(stack: Stack) -> None:
    alice = await stack.register("alice")
    sam = await stack.staff("sam")
    for index, text in enumerate(HOSTILE, start=1):
        number = await stack.file_repair(alice, description=text)
        assert number == f"R-{index:06d}"
        assert text in stack.card(PLUMBING, number).content
        await stack.feed(alice.text(text, reply_to=stack.last(alice.id)))
        await stack.feed(sam.text(text, chat_id=PLUMBING, reply_to=stack.card(PLUMBING, number)))
        assert text in stack.last(alice.id).content
    failed = [c for c in stack.tg.calls if not c.ok]
    assert not failed, failed


async def test_over_long_description_is_refused_with_the_limit(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    await stack.feed(alice.press(stack.last(alice.id), "Question"))
    await stack.feed(alice.press(stack.last(alice.id), "General question"))
    await stack.feed(alice.text("y" * 2001))
    assert "limit is 2000" in stack.last(alice.id).content
    await stack.feed(alice.text("When is the pool open?"))
    assert "Send up to 5 photos" in stack.last(alice.id).content


async def test_bad_input_at_every_step_gets_a_reprompt(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    await stack.feed(alice.sticker())
    assert "buttons above" in stack.last(alice.id).content
    await stack.feed(alice.press(stack.keyboard(alice.id), "Repair"))
    await stack.feed(alice.voice())
    assert "buttons above" in stack.last(alice.id).content
    await stack.feed(alice.press(stack.keyboard(alice.id), "Leaking tap"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "My flat"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "No"))
    await stack.feed(alice.location())
    assert "send text" in stack.last(alice.id).content
    await stack.feed(alice.text("Drip"))
    await stack.feed(alice.document())
    assert "send a photo" in stack.last(alice.id).content
    await stack.feed(alice.press(stack.keyboard(alice.id), "Skip"))
    await stack.feed(alice.text("hello"))
    assert "buttons above" in stack.last(alice.id).content
    await stack.feed(alice.command("cancel"))
    assert "Cancelled" in stack.last(alice.id).content
    await stack.feed(alice.command("cancel"))
    assert "nothing to cancel" in stack.last(alice.id).content
    assert not [c for c in stack.tg.calls if not c.ok]


async def test_my_requests_pages_stay_within_limits(stack: Stack) -> None:
    alice = await stack.register("alice")
    for i in range(20):
        await stack.file_quick(alice, f"Problem {i} " + "z" * 1500)
    await stack.feed(alice.command("my"))
    first = stack.last(alice.id)
    assert "page 1 of 3" in first.content
    await stack.feed(alice.press(first, "Older"))
    assert "page 2 of 3" in stack.last(alice.id).content
    assert all(len(m) <= 4096 for m in stack.texts(alice.id))
