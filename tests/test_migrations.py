"""Alembic migrations build exactly the schema the models describe, on both databases."""

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from storage.migrate import upgrade_engine
from storage.models import Base
from tests.conftest import database_url, drop_isolated, isolated_engine


async def test_migrations_match_the_models(db_kind: str, tmp_path: Path) -> None:
    engine = await isolated_engine(database_url(db_kind, tmp_path))
    try:
        await upgrade_engine(engine)

        def diff(connection):  # type: ignore[no-untyped-def]
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)

        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
        assert differences == []
    finally:
        await drop_isolated(engine)
