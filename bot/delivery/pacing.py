"""Pacing under Telegram's limits: per chat, and for the whole bot.

Every Bot API call the sender makes holds a *slot* from just before the request until the
answer arrives. Limits are counted from answers, not from requests: Telegram stamps a message
somewhere between our request and its answer, so

* the next call to a chat starts at least ``interval`` after the previous one was answered, and
* a call starts only while fewer than the global limit are in flight or were answered within
  the global window,

which can never exceed Telegram's limits however late a request reaches it. Calls also start
evenly spaced (``1 / global_per_second`` apart, a token bucket without burst), not in bursts of
30: gentler on Telegram, and with answers faster than the spacing at most one message is ever
between "sent" and "marked", so a crash repeats at most that one. A call Telegram answered with
an error sent nothing, so it gives its places back (``Slot.refund``). A 429 defers only the
chat that got it (``defer``); other chats keep flowing.

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

ANSWER_MARGIN = 0.02  # seconds: a typical time from request to answer


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
        # Starts are spaced a little wider than the limit, so the answer window above is a safety
        # net that seldom has to hold a call (when it does, each call waits for a timer).
        self.global_rate = (
            self.global_limit / (self.global_window + ANSWER_MARGIN) if self.global_limit else 0.0
        )
        self._chat_next: dict[int, float] = {}
        self._tokens = 1.0  # a start may happen when a whole token is there
        self._refilled = monotonic()
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

    async def wait_for_chat(self, chat_id: int) -> None:
        """Until the chat's own interval has passed (before taking any shared resource)."""
        await self._wait_for_chat(chat_id)

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
        if refunded:
            self._refill(answered)
            self._tokens = max(self._tokens, 1.0)  # the start it spent sent nothing
        else:
            self._answered.append(answered)
        self._grant()

    def _refill(self, now: float) -> None:
        # Up to one start of credit, so a late wake-up of the loop is made up, not lost.
        self._tokens = min(2.0, self._tokens + (now - self._refilled) * self.global_rate)
        self._refilled = now

    def _grant(self) -> None:
        """Let the first waiting call go when there is a token and room in the window; else
        wake up when there will be."""
        now = self.monotonic()
        self._refill(now)
        while self._answered and self._answered[0] <= now - self.global_window:
            self._answered.popleft()
        wake_at: float | None = None
        while self._waiting:
            if self._in_flight + len(self._answered) >= self.global_limit:
                wake_at = self._answered[0] + self.global_window if self._answered else None
                break
            if self._tokens < 1.0:
                wake_at = now + (1.0 - self._tokens) / self.global_rate
                break
            granted = heapq.heappop(self._waiting)[2]
            if granted.done():  # its caller was cancelled
                continue
            self._tokens -= 1.0
            self._in_flight += 1
            granted.set_result(None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._waiting and wake_at is not None:
            delay = max(0.0, wake_at - now)
            self._timer = asyncio.get_running_loop().call_later(delay, self._grant)


def backoff(attempt: int, base: float, cap: float, jitter: float) -> float:
    """Exponential backoff for the ``attempt``-th retry (0-based), scaled by ``jitter`` in [0.5, 1]."""
    return min(cap, base * math.pow(2.0, attempt)) * jitter


class Gate:
    """At most ``capacity`` holders at a time; waiters are let in by ``priority``, lowest first
    (the sender passes the outbox row id: the oldest message goes first)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._held = 0
        self._waiting: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @asynccontextmanager
    async def hold(self, priority: float) -> AsyncIterator[None]:
        admitted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), admitted))
        self._admit()
        try:
            await admitted
        except asyncio.CancelledError:
            if admitted.done() and not admitted.cancelled():  # let in, then cancelled
                self._held -= 1
                self._admit()
            raise
        try:
            yield
        finally:
            self._held -= 1
            self._admit()

    def _admit(self) -> None:
        while self._waiting and self._held < self.capacity:
            admitted = heapq.heappop(self._waiting)[2]
            if admitted.done():  # its caller was cancelled
                continue
            self._held += 1
            admitted.set_result(None)
