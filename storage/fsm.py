"""Dialog state in the database, so a restart continues a dialog where it stopped.

Used when one process handles the updates (several web processes share dialogs through Redis),
so this process's memory is a faithful copy of the table: reads come from memory, and a write
that changes nothing (``state.clear()`` with no dialog open, the common case) is skipped.
"""

import copy
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy import Table, bindparam, delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.dialects import dialect_of, per_dialect
from storage.engine import engine_of
from storage.models import FsmRecord

DEFAULT_CACHE_SIZE = 10_000

# Built once, on the table (a dialog step writes its state each time; an ORM merge read the row
# first and built its statements anew).
_TABLE = cast(Table, FsmRecord.__table__)
FORGET = delete(_TABLE).where(_TABLE.c.key == bindparam("key"))


def _upsert(insert: Any) -> Any:
    statement = insert(_TABLE).values(
        key=bindparam("key"), state=bindparam("state"), data=bindparam("data")
    )
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={"state": statement.excluded.state, "data": statement.excluded.data},
    )


UPSERT = per_dialect(_upsert)
# The writes of the update being handled (``writes_at_end``), if any.
_PENDING: ContextVar[dict[str, "_Dialog"] | None] = ContextVar("dialog_writes", default=None)


def _key(key: StorageKey) -> str:
    parts = [str(key.bot_id), str(key.chat_id), str(key.user_id)]
    if key.thread_id is not None:
        parts.append(f"t{key.thread_id}")
    if key.business_connection_id:
        parts.append(f"b{key.business_connection_id}")
    parts.append(key.destiny)
    return ":".join(parts)


@dataclass
class _Dialog:
    state: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class DatabaseStorage(BaseStorage):
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], cache_size: int = DEFAULT_CACHE_SIZE
    ) -> None:
        self.sessions = sessions
        self.engine = engine_of(sessions)  # writes: Core statements on a connection
        self.cache_size = cache_size
        self._cache: OrderedDict[str, _Dialog] = OrderedDict()

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        current = await self._load(_key(key))
        if current.state != value:
            await self._write(_key(key), _Dialog(value, current.data))

    async def get_state(self, key: StorageKey) -> str | None:
        return (await self._load(_key(key))).state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        current = await self._load(_key(key))
        if current.data != data:
            await self._write(_key(key), _Dialog(current.state, copy.deepcopy(dict(data))))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        # A copy: handlers may change what they got before deciding whether to store it.
        return copy.deepcopy((await self._load(_key(key))).data)

    async def close(self) -> None:
        return None

    async def _load(self, key: str) -> _Dialog:
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        async with self.sessions() as session:
            record = await session.get(FsmRecord, key)
            loaded = _Dialog(record.state, dict(record.data)) if record is not None else _Dialog()
        self._remember(key, loaded)
        return loaded

    @asynccontextmanager
    async def writes_at_end(self) -> AsyncIterator[None]:
        """Around one update: its dialog writes reach the table once, when it ends (a dialog
        step sets its data and then its state: two transactions otherwise). Reads in between
        come from memory, which holds the new dialog at once."""
        pending: dict[str, _Dialog] = {}
        token = _PENDING.set(pending)
        try:
            yield
        finally:
            _PENDING.reset(token)
            if pending:
                await self._flush(pending)

    async def _write(self, key: str, dialog: _Dialog) -> None:
        pending = _PENDING.get()
        if pending is None:
            await self._flush({key: dialog})
            return
        pending[key] = dialog
        self._remember(key, dialog)

    async def _flush(self, dialogs: dict[str, _Dialog]) -> None:
        try:
            # Core statements on a connection: an ORM session's bookkeeping cost more than them.
            async with self.engine.begin() as connection:
                dialect = dialect_of(connection)
                for key, dialog in dialogs.items():
                    if dialog.state is None and not dialog.data:
                        await connection.execute(FORGET, {"key": key})
                    else:
                        values = {"key": key, "state": dialog.state, "data": dialog.data}
                        await connection.execute(UPSERT[dialect], values)
        except BaseException:
            for key in dialogs:  # memory must not claim what the table does not hold
                self._cache.pop(key, None)
            raise
        for key, dialog in dialogs.items():
            self._remember(key, dialog)

    def _remember(self, key: str, dialog: _Dialog) -> None:
        self._cache[key] = dialog
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
