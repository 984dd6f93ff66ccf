"""Freezing what start-up built: out of the collector's full walks, while later garbage is still
collected."""

import gc
import weakref
from collections.abc import Iterator

import pytest

from bot.heap import freeze_startup_heap


@pytest.fixture
def frozen() -> Iterator[None]:
    gc.unfreeze()
    try:
        yield
    finally:
        gc.unfreeze()  # the rest of the suite sees an ordinary collector


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_what_start_up_built_is_frozen_and_later_cycles_are_still_collected(frozen: None) -> None:
    import bot.app  # noqa: F401  (aiogram's types, SQLAlchemy's mappers: what start-up holds)

    before = gc.get_freeze_count()
    freeze_startup_heap()
    assert gc.get_freeze_count() > before + 100_000

    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: only the collector frees it
    gone = weakref.ref(first)
    del first, second
    gc.collect()
    assert gone() is None
