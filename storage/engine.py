"""Engines and sessions: SQLite in WAL mode by default, PostgreSQL via asyncpg in production."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        # One connection: SQLite runs one writer at a time anyway, and transactions waiting for
        # the pool queue in order, where waiting for the file lock means sleeping in SQLite's
        # busy handler (unfair, and under load most of the time went there).
        options: dict[str, Any] = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 120}
        engine = create_async_engine(url, connect_args={"timeout": 30}, **(options | kwargs))
        _tune_sqlite(engine)
        return engine
    return create_async_engine(url, **kwargs)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # aiosqlite's own BEGIN handling would defer the write lock; we ask for it explicitly.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"
