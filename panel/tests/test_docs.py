"""docs/security.md states the numbers the code enforces; README lists every env variable."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SECURITY_MD = (BASE_DIR / "docs" / "security.md").read_text()
README = (BASE_DIR / "README.md").read_text()

SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
ROW = re.compile(r"^\| (?P<what>[^|]+) \| (?P<value>[^|]+) \| `(?P<where>[^`]+)` \|$", re.M)


def documented_rows() -> list[tuple[str, str, str]]:
    rows = [(m["what"].strip(), m["value"].strip(), m["where"]) for m in ROW.finditer(SECURITY_MD)]
    assert len(rows) >= 15, "the numbers table in docs/security.md was not found"
    return rows


def parse(value: str) -> list[float]:
    """'60 seconds, 5 minutes, 1 hour' -> [60, 300, 3600]; '6 failures' -> [6]."""
    numbers = []
    for part in value.split(","):
        number, unit = part.split()[:2]
        unit = unit.rstrip("s")
        numbers.append(float(number) * SECONDS.get(unit, 1))
    return numbers


def actual(where: str) -> list[float]:
    if where.startswith("settings."):
        value = getattr(settings, where.removeprefix("settings."))
    else:
        module_path, _, attribute = where.rpartition(".")
        try:
            value = getattr(importlib.import_module(module_path), attribute)
        except ModuleNotFoundError:
            module_path, _, owner = module_path.rpartition(".")
            value = getattr(getattr(importlib.import_module(module_path), owner), attribute)
    values = value if isinstance(value, list | tuple) else [value]
    return [v.total_seconds() if isinstance(v, timedelta) else float(v) for v in values]


@pytest.mark.parametrize(("what", "value", "where"), documented_rows())
def test_docs_security_md_matches_the_code(what, value, where):
    assert parse(value) == actual(where), f"docs/security.md: {what!r} says {value}"


def test_the_password_policy_deviation_from_nist_is_documented():
    assert "NIST SP 800-63B-4 asks for 15 characters" in SECURITY_MD
    assert f"{settings.PASSWORD_MIN_LENGTH} characters" in SECURITY_MD


def test_the_totp_window_deviation_is_documented():
    assert "deviates" in SECURITY_MD and "V6.5.5" in SECURITY_MD


ENV_READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_the_readme_documents_every_environment_variable_the_settings_read():
    sources = (BASE_DIR / "panel" / "settings").glob("*.py")
    read = {name for path in sources for name in ENV_READ.findall(path.read_text())}
    read |= {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}  # read through env.py's helpers
    missing = sorted(name for name in read if f"`{name}`" not in README)
    assert not missing, f"README.md's configuration table lacks {missing}"


def test_the_readme_lists_every_operator_command():
    commands = {
        path.stem
        for path in BASE_DIR.glob("*/management/commands/*.py")
        if not path.name.startswith("_") and ".venv" not in path.parts
    }
    assert commands, "no management command found"
    missing = sorted(name for name in commands if f"`manage.py {name}" not in README)
    assert not missing, f"README.md's operator table lacks {missing}"
