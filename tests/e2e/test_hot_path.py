"""What an update costs the database: the common updates take one transaction (recording the
update and reading who sent it), not nine. Counted with SQLAlchemy's ``begin`` event."""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import event

from storage.fsm import DatabaseStorage
from tests.e2e.harness import Stack


@contextmanager
def counting(stack: Stack) -> Iterator[list[int]]:
    count = [0]

    def begun(_connection: object) -> None:
        count[0] += 1

    event.listen(stack.app.engine.sync_engine, "begin", begun)
    try:
        yield count
    finally:
        event.remove(stack.app.engine.sync_engine, "begin", begun)


async def handle(stack: Stack, update: dict[str, Any]) -> None:
    """The update alone (answered directly: the outbox sender is not involved)."""
    await stack.app.dispatcher.feed_raw_update(stack.app.bot, update)


async def test_a_residents_help_and_chat_take_one_transaction_each(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("help"))  # the dialog storage has now seen alice
    with counting(stack) as help_count:
        await handle(stack, alice.command("help"))
    assert "How to use this bot" in stack.last(alice.id).content
    with counting(stack) as my_count:
        await handle(stack, alice.command("my"))
    assert help_count == [1]
    assert my_count == [2]  # + reading her requests
    assert await stack.app.sender.drain() == 0  # nothing was queued, so nothing was woken


async def test_a_manager_still_gets_the_console_help(stack: Stack) -> None:
    mia = await stack.staff("mia")
    await stack.feed(mia.command("help"))
    assert "/stats" in stack.last(mia.id).content


async def test_dialog_storage_skips_writes_that_change_nothing_and_survives_a_restart(
    stack: Stack,
) -> None:
    storage = DatabaseStorage(stack.app.sessions)
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    with counting(stack) as cleared:
        await storage.set_state(key, None)
        await storage.set_data(key, {})
    assert cleared == [1]  # one read to learn there is nothing; no write
    await storage.set_state(key, "NewRequest:description")
    photos = ["a"]
    await storage.set_data(key, {"photos": photos})
    photos.append("b")  # the caller's list is not the stored one
    got = await storage.get_data(key)
    got["photos"].append("c")  # nor is what it hands out
    restarted = DatabaseStorage(stack.app.sessions)
    assert await restarted.get_state(key) == "NewRequest:description"
    assert await restarted.get_data(key) == {"photos": ["a"]}
    assert await storage.get_data(key) == {"photos": ["a"]}
    await storage.set_state(key, None)
    await storage.set_data(key, {})
    assert await DatabaseStorage(stack.app.sessions).get_state(key) is None


async def test_filters_run_inline_not_on_threads(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """aiogram hands synchronous filters (magic filters included) to ``asyncio.to_thread``;
    ours run inline (handlers/inline_filters.py), so the common updates never leave the loop.
    Filtering still works: each update reaches its own handler."""
    assert all(
        found.awaitable
        for router in stack.app.dispatcher.chain_tail
        for observer in router.observers.values()
        for handler in [observer._handler, *observer.handlers]
        for found in handler.filters or []
    )
    alice = await stack.register("alice")
    sam = await stack.staff("sam")
    number = await stack.file_quick(alice, "drip")
    hops: list[object] = []
    real = asyncio.to_thread

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(function)
        return await real(function, *args, **kwargs)

    monkeypatch.setattr(asyncio, "to_thread", counted)
    await handle(stack, alice.command("help"))
    assert "How to use this bot" in stack.last(alice.id).content
    await handle(stack, alice.command("my"))
    assert any(number in text for row in stack.last(alice.id).button_texts for text in row)
    await handle(stack, alice.text("is anyone there?"))
    await handle(stack, sam.command("help"))
    assert hops == []


async def test_a_dialog_step_writes_its_state_once_and_a_restart_finds_it(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("new"))
    writes: list[str] = []

    def executed(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "fsm_states" in statement and not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    event.listen(stack.app.engine.sync_engine, "before_cursor_execute", executed)
    try:
        await handle(stack, alice.press(stack.last(alice.id), "Repair"))  # sets data, then state
    finally:
        event.remove(stack.app.engine.sync_engine, "before_cursor_execute", executed)
    assert "Leaking tap" in str(stack.last(alice.id).reply_markup)
    assert len(writes) == 1
    key = StorageKey(bot_id=stack.app.bot.id, chat_id=alice.id, user_id=alice.id)
    restarted = DatabaseStorage(stack.app.sessions)
    assert await restarted.get_state(key) == "NewRequest:category"
    assert (await restarted.get_data(key))["kind"] == "repair"
    await stack.feed(alice.press(stack.last(alice.id), "Leaking tap"))  # the dialog goes on
    assert "My flat" in str(stack.last(alice.id).reply_markup)


async def test_a_dialog_write_that_fails_leaves_memory_as_the_table_is(stack: Stack) -> None:
    storage = DatabaseStorage(stack.app.sessions)
    key = StorageKey(bot_id=1, chat_id=6, user_id=6)
    await storage.set_state(key, "NewRequest:kind")

    class Outage(Exception):
        pass

    class Down:
        def begin(self) -> None:
            raise Outage

    with pytest.raises(Outage):
        async with storage.writes_at_end():
            await storage.set_state(key, "NewRequest:category")
            assert await storage.get_state(key) == "NewRequest:category"  # within the update
            storage.engine = Down()  # type: ignore[assignment]
    storage.engine = stack.app.engine
    assert await storage.get_state(key) == "NewRequest:kind"  # read again from the table
