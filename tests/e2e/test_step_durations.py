"""Each request stores how long its steps took, in whole seconds, as the technicians' taps set
them; /stats reads those figures. A reopened request's resolution time is cleared until it is
resolved again."""

import re
from datetime import timedelta

from storage.models import Ticket
from tests.e2e.harness import PLUMBING, Stack

TAG = re.compile(r"<[^>]+>")


async def durations(stack: Stack, number: str) -> tuple[int | None, int | None, int | None]:
    async with stack.app.sessions() as session:
        ticket = await session.get(Ticket, await stack.ticket_id(number))
        assert ticket is not None
        return ticket.claim_seconds, ticket.on_site_seconds, ticket.resolve_seconds


async def test_the_taps_record_each_steps_time_and_stats_reads_it(stack: Stack) -> None:
    alice = await stack.register("alice")
    sam = await stack.staff("sam")
    mia = await stack.staff("mia")
    stack.clock.advance(timedelta(seconds=0.6))  # filed at 10:00:00.6
    number = await stack.file_quick(alice, "Tap drips")
    assert await durations(stack, number) == (None, None, None)

    stack.clock.advance(timedelta(minutes=4, seconds=59.5))  # 10:05:00.1: 299.5 s, counted 300
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Accept"))
    stack.clock.advance(timedelta(minutes=2))
    await stack.feed(sam.press(stack.card(PLUMBING, number), "On my way"))
    assert await durations(stack, number) == (300, 420, None)

    stack.clock.advance(timedelta(minutes=53))  # 11:00:00.1
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Done"))
    await stack.feed(sam.text("Fixed"))
    await stack.feed(sam.press(stack.last(sam.id), "Skip"))
    assert await durations(stack, number) == (300, 420, 3600)

    await stack.feed(alice.press(stack.last(alice.id), "Not fixed"))
    await stack.feed(alice.text("Still dripping at night"))
    assert await durations(stack, number) == (300, 420, None)
    await stack.feed(mia.command("stats", "today"))
    shown = TAG.sub("", stack.last(mia.id).content)
    assert "• to claim: 5 min / 5 min (requests: 1)" in shown
    assert "• to arrive on site: 7 min / 7 min (requests: 1)" in shown
    assert "• to resolve: — / — (requests: 0)" in shown

    stack.clock.advance(timedelta(hours=1, minutes=5))  # 12:05:00.1
    await stack.feed(sam.press(stack.card(PLUMBING, number), "Done"))
    await stack.feed(sam.text("Fixed properly"))
    await stack.feed(sam.press(stack.last(sam.id), "Skip"))
    assert await durations(stack, number) == (300, 420, 7500)
    await stack.feed(mia.command("stats", "today"))
    shown = TAG.sub("", stack.last(mia.id).content)
    assert "• to resolve: 2 h 05 min / 2 h 05 min (requests: 1)" in shown
