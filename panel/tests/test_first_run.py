"""First run without `make run`: `migrate` alone leaves a working panel, a missing cache
table is named by the system checks, and production without a required variable says
which one in one line.

Each case runs manage.py in a subprocess with a minimal environment and its own SQLite
file, exactly as an operator would."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from .test_settings import BASE_DIR, PROD_ENV, minimal_env


def manage(*args: str, module: str = "panel.settings.dev", **env: str):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=minimal_env(DJANGO_SETTINGS_MODULE=module, **env),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A database made by `manage.py migrate` alone (no createcachetable)."""
    path = tmp_path_factory.mktemp("first-run") / "panel.sqlite3"
    result = manage("migrate", "--noinput", DATABASE_URL=f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr[-3000:]
    return path


def _tables(path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_migrate_alone_creates_the_database_cache_table(migrated):
    assert "panel_cache" in _tables(migrated)


def test_the_system_checks_pass_after_migrate_alone(migrated):
    result = manage("check", DATABASE_URL=f"sqlite:///{migrated}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_system_checks_name_the_command_when_the_cache_table_is_missing(tmp_path, migrated):
    copy = tmp_path / "copy.sqlite3"
    copy.write_bytes(migrated.read_bytes())
    with sqlite3.connect(copy) as db:
        db.execute("DROP TABLE panel_cache")
    result = manage("check", DATABASE_URL=f"sqlite:///{copy}")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "panel.E006" in output and "manage.py createcachetable" in output


def test_the_checks_do_not_create_a_database_that_does_not_exist(tmp_path):
    missing = tmp_path / "never-made.sqlite3"
    result = manage("check", DATABASE_URL=f"sqlite:///{missing}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not missing.exists()


@pytest.mark.parametrize("missing", ["SITE_URL", "SECRET_KEY", "ALLOWED_HOSTS", "ENCRYPTION_KEYS"])
def test_production_without_a_required_variable_says_which_in_one_line(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = manage("check", module="panel.settings.prod", **env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    assert missing in lines[0] and "set it to" in lines[0].lower()


def test_a_malformed_production_value_is_one_line_too():
    result = manage("check", module="panel.settings.prod", **{**PROD_ENV, "SECRET_KEY": "short"})
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SECRET_KEY" in result.stderr
