"""Dialog state in the database, so a restart continues a dialog where it stopped."""

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import FsmRecord


def _key(key: StorageKey) -> str:
    parts = [str(key.bot_id), str(key.chat_id), str(key.user_id)]
    if key.thread_id is not None:
        parts.append(f"t{key.thread_id}")
    if key.business_connection_id:
        parts.append(f"b{key.business_connection_id}")
    parts.append(key.destiny)
    return ":".join(parts)


class DatabaseStorage(BaseStorage):
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        async with self.sessions.begin() as session:
            record = await session.get(FsmRecord, _key(key))
            if record is None:
                if value is None:
                    return
                session.add(FsmRecord(key=_key(key), state=value, data={}))
            else:
                record.state = value
                if value is None and not record.data:
                    await session.delete(record)

    async def get_state(self, key: StorageKey) -> str | None:
        async with self.sessions() as session:
            record = await session.get(FsmRecord, _key(key))
            return record.state if record is not None else None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        async with self.sessions.begin() as session:
            record = await session.get(FsmRecord, _key(key))
            if record is None:
                if not data:
                    return
                session.add(FsmRecord(key=_key(key), state=None, data=dict(data)))
            else:
                record.data = dict(data)
                if not data and record.state is None:
                    await session.delete(record)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with self.sessions() as session:
            record = await session.get(FsmRecord, _key(key))
            return dict(record.data) if record is not None else {}

    async def close(self) -> None:
        return None
