"""Synchronous filters run inline instead of on a thread.

aiogram awaits an ``async`` filter and hands any other callable, magic filters (``F.text``,
``F.chat.type == "private"``) included, to ``asyncio.to_thread``. Ours are pure attribute tests of
the update, so each thread hop cost far more than the test: a resident's text message passed
~100 of them (found with cProfile in bench/README.md). After the routers are assembled,
``run_sync_filters_inline`` wraps every synchronous filter in a coroutine that calls it directly.
"""

import functools
from collections.abc import Callable, Iterator
from typing import Any

from aiogram import Router
from aiogram.dispatcher.event.handler import CallableObject, FilterObject


def _inline(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    async def call(*args: Any, **kwargs: Any) -> Any:
        return callback(*args, **kwargs)

    return call


def _filters(router: Router) -> Iterator[FilterObject]:
    for observer in router.observers.values():
        for handler in [observer._handler, *observer.handlers]:
            yield from handler.filters or []


def run_sync_filters_inline(root: Router) -> int:
    """Every synchronous filter of ``root`` and the routers under it; returns how many."""
    changed = 0
    for router in root.chain_tail:
        for found in _filters(router):
            if not found.awaitable:
                _make_inline(found)
                changed += 1
    return changed


def _make_inline(found: CallableObject) -> None:
    # ``params`` (which keyword arguments the filter takes) were read from the original
    # signature and stay; only how it is called changes.
    found.callback = _inline(found.callback)
    found.awaitable = True
