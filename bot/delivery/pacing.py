"""Pacing under Telegram's limits: per chat, and for the whole bot."""

import asyncio
import time


class Pacer:
    """Spaces sends so no chat, and not the bot as a whole, goes faster than allowed."""

    def __init__(
        self, private_interval: float, group_interval: float, global_per_second: float
    ) -> None:
        self.private_interval = private_interval
        self.group_interval = group_interval
        self.global_interval = 1.0 / global_per_second if global_per_second > 0 else 0.0
        self._chat_next: dict[int, float] = {}
        self._global_next = 0.0
        self._lock = asyncio.Lock()

    def interval_for(self, chat_id: int) -> float:
        return self.private_interval if chat_id > 0 else self.group_interval

    async def wait(self, chat_id: int) -> None:
        now = time.monotonic()
        chat_at = self._chat_next.get(chat_id, 0.0)
        if chat_at > now:
            await asyncio.sleep(chat_at - now)
        if self.global_interval:
            async with self._lock:
                now = time.monotonic()
                slot = max(now, self._global_next)
                self._global_next = slot + self.global_interval
            if slot > now:
                await asyncio.sleep(slot - now)
        self._chat_next[chat_id] = time.monotonic() + self.interval_for(chat_id)

    def defer(self, chat_id: int, seconds: float) -> None:
        self._chat_next[chat_id] = max(
            self._chat_next.get(chat_id, 0.0), time.monotonic() + seconds
        )
