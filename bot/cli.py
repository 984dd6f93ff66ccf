"""The ``frontdoor`` command: run, playground, estate apply, db upgrade."""

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from bot.config import Settings

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="frontdoor", description="A resident help desk in Telegram."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the bot (polling)")
    run.add_argument(
        "--role",
        choices=["all", "web", "worker"],
        default="all",
        help="all: one process; web: receive updates (webhook); worker: scheduler and sender",
    )
    playground = commands.add_parser(
        "playground",
        help="try the bot in a browser: the real bot against a built-in Telegram emulator",
    )
    playground.add_argument("--host", default="127.0.0.1", help="address of the page")
    playground.add_argument("--port", type=int, default=8080, help="port of the page")
    playground.add_argument(
        "--db", type=Path, default=None, help="SQLite file to keep (default: a temporary one)"
    )
    estate = commands.add_parser("estate", help="estate file commands")
    estate_commands = estate.add_subparsers(dest="estate_command", required=True)
    apply = estate_commands.add_parser("apply", help="apply an estate file (idempotent)")
    apply.add_argument("file", type=Path)
    check = estate_commands.add_parser("check", help="validate an estate file without applying it")
    check.add_argument("file", type=Path)
    db = commands.add_parser("db", help="database commands")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="apply database migrations")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.command == "db":
        from storage.migrate import upgrade

        upgrade(settings.database_url)
        print("database is up to date")
        return 0
    if args.command == "estate":
        return _estate(args.estate_command, args.file, settings)
    if args.command == "playground":
        return asyncio.run(_playground(args.host, args.port, args.db))
    problem = settings.token_problem()
    if problem is not None:
        print(f"frontdoor: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    return asyncio.run(_run(settings, args.role))


def _load(path: Path) -> object | None:
    from bot.estate import EstateFileError, load_estate

    try:
        return load_estate(path)
    except EstateFileError as error:
        for issue in error.errors:
            print(str(issue), file=sys.stderr)
        return None


def _estate(command: str, path: Path, settings: Settings) -> int:
    spec = _load(path)
    if spec is None:
        return EXIT_CONFIG
    if command == "check":
        print(f"{path}: valid")
        return 0
    from storage.migrate import upgrade

    upgrade(settings.database_url)
    changes = asyncio.run(_apply(settings, spec))
    print("\n".join(changes) if changes else "no changes")
    return 0


async def _apply(settings: Settings, spec: object) -> list[str]:
    from bot.domain.clock import SystemClock
    from bot.estate import EstateSpec
    from bot.i18n import Translator, make_i18n
    from bot.services.base import ServiceDeps
    from bot.services.estate_apply import EstateApplier
    from storage.engine import make_engine, make_sessionmaker

    assert isinstance(spec, EstateSpec)
    engine = make_engine(settings.database_url)
    try:
        deps = ServiceDeps(make_sessionmaker(engine), SystemClock(), Translator(make_i18n()))
        report = await EstateApplier(deps).apply(spec)
        return report.changes
    finally:
        await engine.dispose()


async def _run(settings: Settings, role: str) -> int:
    from bot.app import build_app, run
    from storage.migrate import upgrade

    await asyncio.to_thread(upgrade, settings.database_url)
    if settings.estate_file is not None:
        spec = _load(settings.estate_file)
        if spec is None:
            return EXIT_CONFIG
        for line in await _apply(settings, spec):
            logging.getLogger("frontdoor").info("estate: %s", line)
    app = build_app(settings)
    await run(app, role)
    return 0


async def _playground(host: str, port: int, db: Path | None) -> int:
    from bot.playground import Playground

    playground = Playground(host=host, port=port, db=db)
    try:
        await playground.start()
        print(f"Frontdoor playground: open {playground.url} (Ctrl-C to stop)", flush=True)
        await playground.wait()
    finally:
        await playground.stop()
    return 0
