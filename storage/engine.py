"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL via asyncpg in production."""

import asyncio
import sqlite3
from typing import Any, cast

import aiosqlite
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

BUSY_WAIT = 30.0  # seconds a statement may wait for another connection's write lock


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection: SQLite runs one writer at a time anyway, and transactions waiting for
        # the pool queue in order, where waiting for the file lock means sleeping in SQLite's
        # busy handler (unfair, and under load most of the time went there).
        options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 120}
        # timeout 0: SQLite's own busy handler would sleep on the loop's thread (see below).
        connect_args = {"timeout": 0, "async_creator_fn": _connect_inline}
        engine = create_async_engine(url, connect_args=connect_args, **(options | kwargs))
        _tune_sqlite(engine)
        return engine
    return create_async_engine(url, **kwargs)


class _InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection, its calls made on the caller's thread (the event loop's).

    aiosqlite hands every call (execute, fetch, commit, close a cursor) to a worker thread and
    waits for the answer: a round trip costing more than the call itself for the sub-millisecond
    statements of an estate's database. With it, half of the bot's CPU per update went to those
    hops, and the one connection stayed held across them (bench/README.md, round 3: 43–49 -> 92–98
    updates/s). The price: while SQLite works, the loop waits, so a long statement (a /report over
    years of requests, or a lock held by ``frontdoor estate apply`` in another process) pauses the
    whole bot for its duration. PostgreSQL, for large deployments, keeps asyncpg's async I/O.
    The worker thread still opens and closes the connection.

    Waiting for the file's write lock must not happen on the loop's thread: a second connection
    in the same process (two engines on one file) would hold the lock and never get the loop
    back to release it. So SQLite's busy timeout is 0 and a call refused with ``SQLITE_BUSY``
    (which did nothing, so may run again) is retried here after an ``asyncio.sleep``, for up to
    ``BUSY_WAIT`` seconds."""

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        pause, waited = 0.001, 0.0
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or waited >= BUSY_WAIT:
                    raise
            await asyncio.sleep(pause)
            waited += pause
            pause = min(pause * 2, 0.05)


def _connect_inline(
    database: str, iter_chunk_size: int = 64, **kwargs: Any
) -> aiosqlite.Connection:
    def connector() -> sqlite3.Connection:
        # Opened on aiosqlite's thread, used on the loop's: one user at a time (pool of one).
        connection = sqlite3.connect(database, **(kwargs | {"check_same_thread": False}))
        return cast(sqlite3.Connection, connection)

    return _InlineConnection(connector, iter_chunk_size)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # aiosqlite's own BEGIN handling would defer the write lock; we ask for it explicitly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=0")  # waits are _InlineConnection's, off the loop
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: async_sessionmaker[AsyncSession]) -> AsyncEngine:
    """The engine a session factory binds its sessions to."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"
