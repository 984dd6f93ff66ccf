"""What every service holds: sessions, a clock and the catalogs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from bot.domain.clock import Clock
from bot.i18n import Gettext, Translator
from bot.services.context import estate_context
from bot.services.notify import Outgoing
from storage.engine import engine_of


@dataclass
class ServiceDeps:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    translator: Translator


class Service:
    def __init__(self, deps: ServiceDeps) -> None:
        self.deps = deps

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One use case, one transaction."""
        async with self.deps.sessions.begin() as session:
            yield session

    @asynccontextmanager
    async def statements(self) -> AsyncIterator[AsyncConnection]:
        """One transaction of Core statements, on a connection without an ORM session: for the
        work every update does (recording it, reading who sent it), where a session's own
        bookkeeping cost more than the statements (bench/README.md, round 8)."""
        async with engine_of(self.deps.sessions).begin() as connection:
            yield connection

    def tr(self, locale: str) -> Gettext:
        return self.deps.translator.for_locale(locale)

    async def outgoing(self, session: AsyncSession, estate_id: int) -> Outgoing:
        ctx = await estate_context(session, estate_id)
        assert ctx is not None
        return Outgoing(session, ctx, self.deps.clock.now())
