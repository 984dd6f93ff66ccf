"""How far a clock step that writes nothing on the requests has got (``ClockMark``)."""

from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.dialects import dialect_of, per_dialect
from storage.models import ClockMark

MARKS = cast(Table, ClockMark.__table__)


class Mark(NamedTuple):
    """Every request up to (``at``, ``id``), in the order (due time, id), has been done; both
    ``None`` while nothing has."""

    at: datetime | None
    id: int | None


def _holding(insert: Any) -> Any:
    statement = insert(MARKS).values(step=bindparam("of_step"))
    # An update that changes nothing, so that the row is locked until the transaction ends: a
    # second worker's sweep waits here, then reads where the first one got to.
    return statement.on_conflict_do_update(
        index_elements=["step"], set_={"step": statement.excluded.step}
    ).returning(MARKS.c.done_at, MARKS.c.done_id)


HOLD = per_dialect(_holding)
ADVANCE = (
    update(MARKS)
    .where(MARKS.c.step == bindparam("of_step"))
    .values(done_at=bindparam("at", type_=MARKS.c.done_at.type), done_id=bindparam("id"))
)


async def hold(session: AsyncSession, step: str) -> Mark:
    """The step's mark, locked for the rest of the transaction (created if it is new)."""
    row = (await session.execute(HOLD[dialect_of(session)], {"of_step": step})).one()
    return Mark(row.done_at, row.done_id)


async def advance(session: AsyncSession, step: str, to: Mark) -> None:
    await session.execute(ADVANCE, {"of_step": step, "at": to.at, "id": to.id})
