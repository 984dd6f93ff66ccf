"""The SQLite engine runs its statements on the event loop's thread (storage/engine.py), in
WAL mode, one connection, and still commits, rolls back and reopens as a database should."""

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.engine import make_engine


async def test_statements_run_on_the_loops_thread_not_a_worker(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}")
    try:
        async with engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.create_function("thread_id", 0, threading.get_ident)
            ran_on = await connection.scalar(text("SELECT thread_id()"))
            mode = await connection.scalar(text("PRAGMA journal_mode"))
        assert ran_on == threading.get_ident()
        assert mode == "wal"
    finally:
        await engine.dispose()


async def test_commit_rollback_and_reopen(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'inline.db'}"
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        with pytest.raises(RuntimeError):
            async with engine.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (2)"))
                raise RuntimeError("abandon the transaction")
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT n FROM t"))).scalars().all()
        assert rows == [1]
    finally:
        await engine.dispose()
    reopened = make_engine(url)
    try:
        async with reopened.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM t")) == 1
    finally:
        await reopened.dispose()


async def test_a_second_connection_waits_for_the_write_lock_without_blocking_the_loop(
    tmp_path: Path,
) -> None:
    """Two engines on one file in one process: the second one's BEGIN IMMEDIATE waits while the
    first holds the lock across an await, and gets it when the first commits (blocking the
    loop in SQLite's busy handler would deadlock: the first could never commit)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'two.db'}"
    first, second = make_engine(url), make_engine(url)
    try:
        async with first.begin() as connection:
            await connection.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        async with second.connect():  # opened now, so its BEGIN later does not yield to open
            pass
        holding, about_to_write = asyncio.Event(), asyncio.Event()

        async def hold_the_lock() -> None:
            async with first.begin() as connection:
                await connection.execute(text("INSERT INTO t VALUES (1)"))
                holding.set()
                await about_to_write.wait()  # the lock is held across an await

        async def write_too() -> int:
            await holding.wait()
            about_to_write.set()
            async with second.begin() as connection:  # BEGIN IMMEDIATE: busy until committed
                await connection.execute(text("INSERT INTO t VALUES (2)"))
                return int(await connection.scalar(text("SELECT count(*) FROM t")) or 0)

        _, seen = await asyncio.wait_for(asyncio.gather(hold_the_lock(), write_too()), 10)
        assert seen == 2  # the second wrote after the first committed
    finally:
        await first.dispose()
        await second.dispose()
