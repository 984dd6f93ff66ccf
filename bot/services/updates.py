"""Remembering which updates were handled, so a redelivered one does nothing."""

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite

from bot.services.base import Service
from storage.models import ProcessedUpdate


class UpdateLog(Service):
    async def seen(self, update_id: int) -> bool:
        """Record the update; True if it had been recorded before."""
        async with self.transaction() as session:
            dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            result = await session.execute(
                insert(ProcessedUpdate)
                .values(update_id=update_id, at=self.deps.clock.now())
                .on_conflict_do_nothing(index_elements=["update_id"])
            )
            return bool(result.rowcount == 0)  # type: ignore[attr-defined]

    async def forget_older_than(self, days: int = 7) -> None:
        async with self.transaction() as session:
            cutoff = self.deps.clock.now() - timedelta(days=days)
            await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < cutoff))
