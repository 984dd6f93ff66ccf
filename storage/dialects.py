"""Which database a session talks to, and each database's own INSERT (the one with
``ON CONFLICT``), for statements built once per database."""

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

INSERTS: dict[str, Any] = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def dialect_of(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def per_dialect(build: Callable[[Any], T]) -> dict[str, T]:
    """``build(insert)`` for each database: a statement built once, picked by ``dialect_of``."""
    return {name: build(insert) for name, insert in INSERTS.items()}
