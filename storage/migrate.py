"""Running Alembic from code: ``frontdoor db upgrade`` and the tests use this."""

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade through an existing engine (tests share one engine per database)."""
    await _through_engine(engine, command.upgrade, revision)


async def downgrade_engine(engine: AsyncEngine, revision: str) -> None:
    await _through_engine(engine, command.downgrade, revision)


async def _through_engine(
    engine: AsyncEngine, run: Callable[[Config, str], None], revision: str
) -> None:
    config = alembic_config(str(engine.url))

    def _run(connection: object) -> None:
        config.attributes["connection"] = connection
        run(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(_run)
