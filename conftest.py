"""Shared fixtures: user factory, personas, the browser, and the no-skip guard."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

# Playwright runs an event loop in the test thread; Django's ORM refuses to run there
# unless told that this is intended (it is: the live server runs in its own thread).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# The two legs (SQLite; services): deselection, the Celery worker and the SMTP sink.
pytest_plugins = ["panel.tests.plugin"]

PASSWORD = "correct horse battery staple 42"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(autouse=True)
def _fresh_high_security_flag(monkeypatch):
    """The panel's High Security switch is kept in memory per process for a few seconds
    (security.stepup.high_security), as it is between reads in production: each test
    starts with it off (as a new database has it) and held for the whole test, so query
    counts do not depend on when the copy was last read. The service that changes it
    updates the copy."""
    from security.stepup import high_security

    monkeypatch.setattr(high_security, "PANEL_FLAG_SECONDS", 3600.0)
    high_security.remember_panel_flag(False)
    yield
    high_security.remember_panel_flag(None)


@pytest.fixture(autouse=True)
def _fresh_generations():
    """What a process keeps under a generation (panel.generations: the team access) is
    the process's: each test starts with nothing kept and no generation read, as a new
    process would, whatever the test before it read."""
    from panel import generations
    from teams import access

    generations.forget()
    access._kept.clear()
    yield
    generations.forget()
    access._kept.clear()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user_factory(db):
    from accounts.models import User

    counter = {"n": 0}

    def make(
        username: str | None = None,
        *,
        email: str | None = None,
        password: str = PASSWORD,
        verified: bool = True,
        **extra,
    ) -> User:
        counter["n"] += 1
        username = username or f"user{counter['n']}"
        user = User(
            username=username,
            email=email or f"{username}@example.com",
            full_name=extra.pop("full_name", username.title()),
            email_verified_at=timezone.now() if verified else None,
            **extra,
        )
        user.set_password(password)
        user.save()
        return user

    return make


@pytest.fixture
def alice(user_factory):
    return user_factory("alice", full_name="Alice Owner")


@pytest.fixture
def bob(user_factory):
    return user_factory("bob", full_name="Bob Member")


@pytest.fixture
def charlie(user_factory):
    return user_factory("charlie", full_name="Charlie Outsider")


@pytest.fixture
def operator(user_factory):
    """A superuser, as ``manage.py createsuperuser`` makes one (address verified)."""
    return user_factory("operator", is_staff=True, is_superuser=True)


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def enroll_totp(db):
    """``enroll_totp(user)`` turns TOTP on for ``user`` and returns the authenticator
    (pyotp) and the backup codes (security.tests.helpers.Enrolled)."""
    from security.tests.helpers import enroll

    return enroll


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


# --- Email -------------------------------------------------------------------------------


@pytest.fixture
def emails_sent_at_once(monkeypatch, db):
    """Emails are queued on commit, which a test's transaction never reaches: send them
    at once (Celery is eager in tests) so ``mailoutbox`` shows them. Also start with no
    rate-limit counters (the database cache)."""
    from types import SimpleNamespace

    from django.core.cache import cache

    import accounts.emails

    monkeypatch.setattr(
        accounts.emails, "transaction", SimpleNamespace(on_commit=lambda func, **kwargs: func())
    )
    cache.clear()
    yield
    cache.clear()


# --- Browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": CHROMIUM_ARGS,
    }


# --- No test may pass by being skipped --------------------------------------------------


def pytest_sessionfinish(session, exitstatus):
    """With PANEL_FORBID_SKIPS=1 (CI), a skipped test fails the run."""
    if os.environ.get("PANEL_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"FAILED: {skipped} test(s) skipped; CI forbids skips.", red=True)
        session.exitstatus = 1
