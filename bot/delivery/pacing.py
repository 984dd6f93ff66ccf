"""Pacing under Telegram's limits: per chat, and for the whole bot.

Every Bot API call the sender makes holds a *slot* from just before the request until the
answer arrives. Limits are counted from answers, not from requests: Telegram stamps a message
somewhere between our request and its answer, so

* the next call to a chat starts at least ``interval`` after the previous one was answered, and
* a call starts only while fewer than the global limit are in flight or were answered within
  the global window,

which can never exceed Telegram's limits however late a request reaches it. A call Telegram
answered with an error sent nothing, so it gives its places back (``Slot.refund``). A 429 defers
only the chat that got it (``defer``); other chats keep flowing.

When the global limit is what holds calls back, waiting calls go in order of ``priority``
(the sender passes the outbox row id): the oldest message first, so a chat that fell behind
through retries catches up instead of finishing last.
"""

import asyncio
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


class Slot:
    """One call's place under the limits."""

    def __init__(self) -> None:
        self.refunded = False

    def refund(self) -> None:
        """Telegram answered with an error: nothing was sent, the places are free again."""
        self.refunded = True


class Pacer:
    """Spaces calls so no chat, and not the bot as a whole, goes faster than allowed."""

    def __init__(
        self,
        private_interval: float,
        group_interval: float,
        global_per_second: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.private_interval = max(0.0, private_interval)
        self.group_interval = max(0.0, group_interval)
        self.monotonic = monotonic
        # A rate of r/s is "count calls per count/r seconds" (30/s: 30 per second; 0.5/s: 1 per 2 s).
        self.global_limit = max(1, round(global_per_second)) if global_per_second > 0 else 0
        self.global_window = self.global_limit / global_per_second if global_per_second > 0 else 0.0
        self._chat_next: dict[int, float] = {}
        self._answered: deque[float] = deque()  # answer times within the global window
        self._in_flight = 0
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []  # a heap
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def interval_for(self, chat_id: int) -> float:
        return self.private_interval if chat_id > 0 else self.group_interval

    def ready_in(self, chat_id: int) -> float:
        """Seconds until the chat may be written to again (0 when it may be now)."""
        return max(0.0, self._chat_next.get(chat_id, 0.0) - self.monotonic())

    def defer(self, chat_id: int, seconds: float) -> None:
        """Telegram asked us to wait (429) before writing to this chat again."""
        self._chat_next[chat_id] = max(
            self._chat_next.get(chat_id, 0.0), self.monotonic() + seconds
        )

    @asynccontextmanager
    async def slot(self, chat_id: int, priority: float = 0.0) -> AsyncIterator[Slot]:
        """Hold this around one Bot API call to ``chat_id``; lower ``priority`` goes first."""
        await self._wait_for_chat(chat_id)
        await self._take_global(priority)
        slot = Slot()
        before = self._chat_next.get(chat_id, 0.0)
        try:
            yield slot
        finally:
            answered = self.monotonic()
            if not slot.refunded:
                self._chat_next[chat_id] = max(before, answered + self.interval_for(chat_id))
            self._release_global(answered, slot.refunded)

    async def _wait_for_chat(self, chat_id: int) -> None:
        delay = self.ready_in(chat_id)
        while delay > 0:  # a 429 may have pushed it further while we slept
            await asyncio.sleep(delay)
            delay = self.ready_in(chat_id)

    # ---- the global limit -----------------------------------------------------------------
    async def _take_global(self, priority: float) -> None:
        if not self.global_limit:
            return
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), granted))
        self._grant()
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():  # granted, then cancelled: give back
                self._in_flight -= 1
                self._grant()
            raise

    def _release_global(self, answered: float, refunded: bool) -> None:
        if not self.global_limit:
            return
        self._in_flight -= 1
        if not refunded:
            self._answered.append(answered)
        self._grant()

    def _grant(self) -> None:
        """Let waiting calls go while there is room; else wake up when the oldest answer
        leaves the window."""
        now = self.monotonic()
        while self._answered and self._answered[0] <= now - self.global_window:
            self._answered.popleft()
        while self._waiting and self._in_flight + len(self._answered) < self.global_limit:
            granted = heapq.heappop(self._waiting)[2]
            if granted.done():  # its caller was cancelled
                continue
            self._in_flight += 1
            granted.set_result(None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiting and self._answered:
            delay = self._answered[0] + self.global_window - now
            self._timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._grant)


def backoff(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Exponential backoff for the ``attempt``-th retry (0-based), scaled by ``jitter`` in [0.5, 1]."""
    return min(cap, base * math.pow(2.0, attempt)) * jitter
