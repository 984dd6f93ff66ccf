"""The ``frontdoor`` command as an operator meets it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "ESTATE_FILE", "DATABASE_URL")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=environment,
        cwd=cwd or ROOT, timeout=120,
    )


def test_missing_token_is_one_clear_line_and_exit_code_2(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "BOT_TOKEN" in result.stderr and "@BotFather" in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_token_is_refused(tmp_path: Path) -> None:
    result = run("run", cwd=tmp_path, env={"PYTHONPATH": str(ROOT), "BOT_TOKEN": "not-a-token"})
    assert result.returncode == 2 and "malformed" in result.stderr


def test_estate_apply_is_idempotent_and_bad_files_change_nothing(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fd.db'}"}
    first = run("estate", "apply", str(ROOT / "estate.example.toml"), env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created" in first.stdout
    second = run("estate", "apply", str(ROOT / "estate.example.toml"), env=env, cwd=tmp_path)
    assert second.stdout.strip() == "no changes"
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "estate.example.toml").read_text().replace('department = "plumbing"', 'department = "plumbng"', 1))
    refused = run("estate", "apply", str(bad), env=env, cwd=tmp_path)
    assert refused.returncode == 2
    assert 'unknown department "plumbng"' in refused.stderr and "bad.toml:" in refused.stderr
    third = run("estate", "apply", str(ROOT / "estate.example.toml"), env=env, cwd=tmp_path)
    assert third.stdout.strip() == "no changes"


def test_db_upgrade(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'fd.db'}"}
    result = run("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 0 and "up to date" in result.stdout
