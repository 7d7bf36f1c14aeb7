"""The fail2ban log: real failures written through the app, read by Debian's
fail2ban-regex with the shipped filter (deploy/fail2ban/panel.conf)."""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from panel.logs import UTCFormatter
from security.tests.helpers import browser, enroll, start_two_factor, submit_code

pytestmark = pytest.mark.django_db

FAIL2BAN_REGEX = "/usr/bin/fail2ban-regex"
FILTER = Path(django_settings.BASE_DIR) / "deploy" / "fail2ban" / "panel.conf"
LINE = re.compile(
    r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000 panel-auth [a-z0-9_]+ from \S+ user=("(?:[^"\\]|\\.)*"|-)$'
)


@pytest.fixture
def auth_log(tmp_path):
    """The ``panel.fail2ban`` logger writes to a fresh file, formatted as LOGGING says."""
    path = tmp_path / "auth-failures.log"
    logger = logging.getLogger("panel.fail2ban")
    handler = logging.FileHandler(path)
    handler.setFormatter(UTCFormatter(django_settings.LOGGING["formatters"]["fail2ban"]["format"]))
    saved = logger.handlers[:]
    logger.handlers = [handler]
    yield path
    handler.close()
    logger.handlers = saved


def fail2ban_regex(path: Path) -> str:
    assert Path(FAIL2BAN_REGEX).exists(), "make test installs Debian's fail2ban"
    result = subprocess.run(
        [FAIL2BAN_REGEX, "-v", str(path), str(FILTER)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def wrong_password(ip: str, login: str) -> None:
    response = browser(ip).post("/auth/login/", {"username": login, "password": "not-it-at-all"})
    assert response.status_code in (400, 429)


def test_the_logging_settings_send_the_fail2ban_logger_to_its_own_file():
    handler = django_settings.LOGGING["handlers"]["fail2ban"]
    assert handler["filename"] == django_settings.FAIL2BAN_LOG
    assert django_settings.LOGGING["loggers"]["panel.fail2ban"] == {
        "handlers": ["fail2ban"],
        "level": "INFO",
        "propagate": False,
    }


def test_fail2ban_matches_every_failure_and_lockout_and_bans_the_right_addresses(
    auth_log, alice, bob, user_factory, password, settings
):
    # 2 wrong passwords for an account.
    wrong_password("203.0.113.1", "alice")
    wrong_password("203.0.113.1", "ALICE@example.com")
    # A name that is no account, with a line break and an address in it.
    wrong_password("203.0.113.2", 'x" from 198.51.100.66\n2026-01-01T00:00:00+0000 panel')
    # An account whose username tries the same.
    user_factory('evil" from 198.51.100.66', email="evil@example.com")
    wrong_password("203.0.113.3", "evil@example.com")
    # A wrong 2FA code after the right password.
    enrolled = enroll(bob)
    client = browser("203.0.113.4")
    start_two_factor(client, bob, password)
    assert submit_code(client, "000000" if enrolled.code() != "000000" else "111111").status_code
    # Six wrong passwords for a made-up name: six failures and a lockout.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        wrong_password("2001:db8::5", "made-up-name")
    # Neither a right password nor a sign-out writes a line.
    browser("203.0.113.9").post("/auth/login/", {"username": "alice", "password": password})

    lines = auth_log.read_text().splitlines()
    expected = 2 + 1 + 1 + 1 + settings.AXES_FAILURE_LIMIT + 1
    assert len(lines) == expected
    assert all(LINE.match(line) for line in lines), lines
    assert sum(" lockout from 2001:db8::5 " in line for line in lines) == 1
    assert not any("made-up-name" in line for line in lines)  # only its keyed hash

    report = fail2ban_regex(auth_log)
    assert f"Lines: {expected} lines, 0 ignored, {expected} matched, 0 missed" in report
    banned = re.findall(r"^\|\s+(\S+)\s+\w{3} \w{3} ", report, re.M)
    assert sorted(set(banned)) == sorted(
        {"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "2001:db8::5"}
    )
    assert banned.count("2001:db8::5") == settings.AXES_FAILURE_LIMIT + 1
    assert "198.51.100.66" not in banned
