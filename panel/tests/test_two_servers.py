"""More than one server: two gunicorn processes on two ports share one PostgreSQL and one
Redis, as a production deployment's web replicas do (services leg only).

Each check signs in or fails on one server and looks on the other: sessions, revocation,
the lockout's counters, a half-finished 2FA sign-in and TOTP replay protection all live
in the shared stores, never in a process.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from panel.tests.plugin import _database_url
from security.sessions.models import TrackedSession
from security.tests.helpers import enroll

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
PASSWORD = "correct horse battery staple 42"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def two_servers(tmp_path):
    """Two gunicorn servers (one sync worker each) on the test database and Redis."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "panel.settings.test",
        "DATABASE_URL": _database_url(connection.settings_dict),
        "PANEL_DOTENV": "0",
        # The checks here are about shared state, not about risk: no emailed device code.
        "NEW_DEVICE_APPROVAL": "false",
        "SUSPICIOUS_SIGNIN_CHECKS": "false",
        "LOG_LEVEL": "WARNING",
    }
    servers, logs = [], []
    for _ in range(2):
        port = _free_port()
        log = (tmp_path / f"gunicorn-{port}.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "panel.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        servers.append((process, f"http://127.0.0.1:{port}"))
        logs.append(log)
    try:
        for process, base in servers:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/auth/login/", timeout=2).read()  # noqa: S310 (loopback)
                    break
                except (urllib.error.URLError, ConnectionError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        text = "".join(p.read_text() for p in tmp_path.glob("*.log"))
                        pytest.fail(f"gunicorn did not start:\n{text[-3000:]}")
                    time.sleep(0.2)
        yield [base for _, base in servers]
    finally:
        for process, _ in servers:
            process.send_signal(signal.SIGTERM)
        for process, _ in servers:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One browser (one cookie jar) that may talk to either server."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def request(self, url: str, data: dict | None = None) -> tuple[int, str, str]:
        body = None
        if data is not None:
            token = self._csrf_token(url)
            body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **data}).encode()
        try:
            request = urllib.request.Request(url, data=body)  # noqa: S310 (loopback http only)
            response = self.opener.open(request, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        return response.status, response.headers.get("Location", ""), response.read().decode()

    def _csrf_token(self, url: str) -> str:
        for cookie in self.jar:
            if cookie.name == settings.CSRF_COOKIE_NAME:
                return cookie.value
        # No CSRF cookie yet: the sign-in page sets one.
        base = re.match(r"https?://[^/]+", url).group(0)
        self.opener.open(base + "/auth/login/", timeout=10).read()
        return self._csrf_token(url)

    def sign_in(self, base: str, login: str, password: str = PASSWORD) -> tuple[int, str]:
        status, location, _ = self.request(
            base + "/auth/login/", {"username": login, "password": password}
        )
        return status, location


def test_a_session_started_on_one_server_is_valid_on_the_other(two_servers, user_factory):
    first, second = two_servers
    user_factory("alice")
    browser = Browser()
    assert browser.sign_in(first, "alice") == (302, "/dashboard/")
    status, _, page = browser.request(second + "/dashboard/")
    assert status == 200 and "Alice" in page


def test_a_session_revoked_on_one_server_ends_on_the_other(two_servers, user_factory):
    first, second = two_servers
    alice = user_factory("alice")
    laptop, phone = Browser(), Browser()
    assert laptop.sign_in(first, "alice")[0] == 302
    assert phone.sign_in(second, "alice")[0] == 302
    laptop_session = TrackedSession.objects.filter(user=alice).order_by("created_at").first()
    # The phone confirms it's the owner (step-up) and revokes the laptop, on server two.
    assert phone.request(second + "/settings/sessions/confirm/", {"password": PASSWORD})[0] == 302
    status, location, _ = phone.request(
        second + f"/settings/sessions/{laptop_session.pk}/revoke/", {}
    )
    assert (status, location) == (302, "/settings/sessions/")
    # The laptop's next request, on server one, is signed out.
    status, location, _ = laptop.request(first + "/dashboard/")
    assert status == 302 and location.startswith("/auth/login/")


def test_failures_spread_over_both_servers_lock_the_account(two_servers, user_factory):
    first, second = two_servers
    user_factory("alice")
    attacker = Browser()
    statuses = [
        attacker.sign_in((first, second)[n % 2], "alice", "wrong password guess")[0]
        for n in range(6)
    ]
    assert statuses == [400] * 5 + [429]
    # Locked on both servers, the right password included.
    assert attacker.sign_in(first, "alice")[0] == 429
    assert attacker.sign_in(second, "alice")[0] == 429


def test_a_2fa_sign_in_begun_on_one_server_finishes_on_the_other_and_its_code_is_spent(
    two_servers, user_factory
):
    first, second = two_servers
    alice = user_factory("alice")
    enrolled = enroll(alice)
    code = enrolled.code()
    browser = Browser()
    assert browser.sign_in(first, "alice") == (302, "/auth/2fa/")
    status, location, _ = browser.request(second + "/auth/2fa/", {"code": code})
    assert (status, location) == (302, "/dashboard/")
    # The same code, typed again by another browser on the first server: a replay.
    other = Browser()
    assert other.sign_in(second, "alice") == (302, "/auth/2fa/")
    status, _, page = other.request(first + "/auth/2fa/", {"code": code})
    assert status == 400 and "didn" in page
