"""The direction of imports: domain imports nothing of ours; storage and schedules never import
handlers; only handlers and the composition root know about routers."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OURS = ("bot", "handlers", "storage", "schedules")


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules_under(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_domain_is_pure() -> None:
    for path in modules_under("bot/domain"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top not in ("aiogram", "sqlalchemy", "handlers", "storage", "schedules"), (path, name)
            if top == "bot":
                assert name.startswith("bot.domain"), (path, name)


def test_storage_and_schedules_never_import_handlers() -> None:
    for folder in ("storage", "schedules", "bot/domain", "bot/services", "bot/ui", "bot/delivery"):
        for path in modules_under(folder):
            for name in imports_of(path):
                assert not name.startswith("handlers"), (path, name)


def test_storage_does_not_import_services() -> None:
    for path in modules_under("storage"):
        for name in imports_of(path):
            assert not name.startswith(("bot.services", "bot.ui", "bot.delivery")), (path, name)


def test_handlers_never_touch_a_session() -> None:
    for path in modules_under("handlers"):
        for name in imports_of(path):
            assert not name.startswith(("sqlalchemy", "storage")), (path, name)


def test_the_walk_sees_every_package() -> None:
    assert all(modules_under(folder) for folder in OURS)
