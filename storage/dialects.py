"""Which database a session talks to, and each database's own INSERT (the one with
``ON CONFLICT``), for statements built once per database."""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

T = TypeVar("T")
# Where Core statements run: a session, or a connection where no ORM entity is needed.
Executor = AsyncSession | AsyncConnection

INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def dialect_of(executor: Executor) -> str:
    if isinstance(executor, AsyncConnection):
        return executor.dialect.name
    return executor.get_bind().dialect.name


def per_dialect(build: Callable[[Any], T]) -> dict[str, T]:
    """``build(insert)`` for each database: a statement built once, picked by ``dialect_of``."""
    return {name: build(insert) for name, insert in INSERTS.items()}
