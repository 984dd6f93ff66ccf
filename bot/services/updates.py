"""Arriving updates: remembering which were handled, so a redelivered one does nothing, and who
sent them, read in the same transaction."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, delete, literal, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services.base import Service
from bot.services.residents import FIRST_ESTATE_NAME, RESIDENT_COLUMNS, ResidentInfo
from bot.services.staff import STAFF_COLUMNS, StaffInfo, group_language
from storage.dialects import Executor, dialect_of, per_dialect
from storage.models import ProcessedUpdate


@dataclass(frozen=True)
class Arrival:
    """An update as the edge first sees it. ``duplicate``: handled before, do nothing."""

    duplicate: bool
    resident: ResidentInfo | None = None  # private chats
    staff: StaffInfo | None = None  # private chats; None for residents and strangers
    group_locale: str | None = None  # group chats


def _who_is() -> Select[Any]:
    resident = RESIDENT_COLUMNS.limit(1).subquery("resident")
    staff = STAFF_COLUMNS.subquery("staff")
    return (
        select(FIRST_ESTATE_NAME.scalar_subquery(), *resident.c, *staff.c)
        .select_from(select(literal(1).label("one")).subquery("one"))
        .outerjoin(resident, true())
        .outerjoin(staff, true())
    )


# ``resident_info`` and ``staff_info`` in one statement: on SQLite every statement is a round trip
# to the driver's thread while the only connection is held, so the hot path's transaction is as
# long as its statements are many. Built once, like the statements below: building these per
# update (and deriving their cache keys) cost more CPU than running them.
WHO_IS = _who_is()
# On the table, not the entity: with parameters, the ORM would run an entity insert as a bulk
# insert, whose result has no row count.
RECORD = per_dialect(
    lambda insert: (
        insert(cast(Table, ProcessedUpdate.__table__))
        .values(update_id=bindparam("update_id"), at=bindparam("at"))
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
)


async def who_is(executor: Executor, telegram_id: int) -> tuple[ResidentInfo, StaffInfo | None]:
    row = (await executor.execute(WHO_IS, {"telegram_id": telegram_id})).one()
    estate_name, status, language, unreachable, flat, building = row[:6]
    staff_id, staff_name, role, staff_language = row[6:]
    found = (
        ResidentInfo("unknown", "en", estate_name)
        if status is None
        else ResidentInfo(status, language, estate_name, flat, building, unreachable)
    )
    return found, (
        StaffInfo(staff_id, staff_name, role, staff_language) if staff_id is not None else None
    )


class UpdateLog(Service):
    async def arrive(
        self, update_id: int, user_id: int | None, chat_id: int | None, private: bool
    ) -> Arrival:
        """Record the update and read who sent it, in one transaction."""
        async with self.statements() as connection:
            if await self._record(connection, update_id):
                return Arrival(duplicate=True)
            if user_id is None:
                return Arrival(duplicate=False)
            if not private and chat_id is not None:
                return Arrival(
                    duplicate=False, group_locale=await group_language(connection, chat_id)
                )
            resident, staff = await who_is(connection, user_id)
            return Arrival(duplicate=False, resident=resident, staff=staff)

    async def _record(self, connection: AsyncConnection, update_id: int) -> bool:
        """Record the update; True if it had been recorded before."""
        result = await connection.execute(
            RECORD[dialect_of(connection)], {"update_id": update_id, "at": self.deps.clock.now()}
        )
        return bool(result.rowcount == 0)

    async def forget_older_than(self, days: int = 7) -> None:
        async with self.transaction() as session:
            cutoff = self.deps.clock.now() - timedelta(days=days)
            await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < cutoff))
