"""Databases for tests: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL is used when reachable at TEST_POSTGRES_URL (default the CI server); with CI=true
an unreachable server fails the run instead of skipping.
"""

# First, as in production: aiogram's types are then built on first use (bot/telegram_models.py).
import bot  # noqa: F401, I001

import os
import socket

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import make_engine
from storage.models import Base

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _reachable(url: str) -> bool:
    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5432), 1):
            return True
    except OSError:
        return False


def database_url(kind: str, tmp_path: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'frontdoor.db'}"
    if not _reachable(PG_URL):
        if IN_CI:
            pytest.fail(f"PostgreSQL is required on CI but {PG_URL} is not reachable")
        pytest.skip("PostgreSQL not reachable (set TEST_POSTGRES_URL); runs on CI")
    return PG_URL


async def isolated_engine(url: str) -> AsyncEngine:
    """An engine on an empty database of its own: a fresh schema on PostgreSQL (so parallel
    runs never meet), a fresh file on SQLite."""
    if not url.startswith("postgresql"):
        return make_engine(url)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return make_engine(url, connect_args={"server_settings": {"search_path": schema}})


async def drop_isolated(engine: AsyncEngine) -> None:
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            schema = await connection.scalar(text("SELECT current_schema()"))
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


async def fresh_engine(url: str) -> AsyncEngine:
    engine = await isolated_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    return engine


@pytest.fixture(params=["sqlite", "postgres"])
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def engine(db_kind: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = await fresh_engine(database_url(db_kind, tmp_path))
    yield engine
    await drop_isolated(engine)
