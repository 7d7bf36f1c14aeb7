"""pytest plugin (registered by the root conftest): the two legs of the suite.

SQLite leg (`make test`): tests marked ``services`` are deselected -- not skipped -- and
the count is reported. Services leg (`make test-services`, PANEL_SERVICES=1): the same
suite on PostgreSQL and Redis; ``services`` tests also get a real Celery worker and an
in-process SMTP sink.

In the services leg, only ``services`` tests send through the broker. Every other test
keeps Celery eager, so that it can assert on ``mailoutbox`` exactly as in the SQLite leg:
the same assertions hold on both legs, and the broker path is proven by the ``services``
tests end to end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

SERVICES = os.environ.get("PANEL_SERVICES") == "1"
BASE_DIR = Path(__file__).resolve().parent.parent.parent
TEST_TEMPLATES = Path(__file__).resolve().parent / "templates"


# --- Deselect services tests in the SQLite leg --------------------------------------------


def pytest_collection_modifyitems(config, items):
    if SERVICES:
        return
    kept, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("services") else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
        config._panel_services_deselected = len(deselected)


def pytest_report_header(config):
    if SERVICES:
        return "panel: services leg (PostgreSQL, Redis, Celery worker, SMTP sink)"
    return (
        "panel: SQLite leg (tests marked `services` are deselected; make test-services runs them)"
    )


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    count = getattr(config, "_panel_services_deselected", 0)
    if count:
        terminalreporter.write_line(
            f"panel: {count} services test(s) deselected; `make test-services` runs them."
        )


# --- Email templates only the tests use -----------------------------------------------------


@pytest.fixture
def test_email_templates(settings):
    """Adds panel/tests/templates, whose emails/pipeline_check_* carries a one-time link."""
    settings.TEMPLATES = [
        {**engine, "DIRS": [*engine.get("DIRS", []), TEST_TEMPLATES]}
        for engine in settings.TEMPLATES
    ]
    return "pipeline_check"


# --- Services leg ---------------------------------------------------------------------------


@dataclass
class SmtpSink:
    """Messages received by the in-process SMTP server, in arrival order."""

    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"

    def wait_for(self, recipient: str, timeout: float = 15.0) -> Message:
        """The first message to ``recipient``, polling up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                for message in self.messages:
                    if recipient in (message.get("To") or ""):
                        return message
            time.sleep(0.1)
        raise AssertionError(f"no email to {recipient} reached the SMTP sink in {timeout} s")

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    """An aiosmtpd server in a thread, listening where EMAIL_URL points."""
    from aiosmtpd.controller import Controller

    url = urlsplit(os.environ["EMAIL_URL"])
    sink = SmtpSink(host=url.hostname or "127.0.0.1", port=url.port or 25)
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def _database_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def _services_database(django_db_setup, django_db_blocker) -> dict:
    """The test database, made ready for a leg that flushes it with TRUNCATE.

    The audit trail's TRUNCATE trigger would stop the test runner from emptying tables
    between transactional tests; it is disabled in the throwaway test database only (the
    UPDATE/DELETE trigger that the tests check stays on).
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.exit("PANEL_SERVICES=1 needs DATABASE_URL=postgres://...", returncode=3)
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE security_auditevent DISABLE TRIGGER security_auditevent_no_truncate"
        )
    return dict(connection.settings_dict)


@pytest.fixture(scope="session", autouse=True)
def _services_leg(request):
    """In the services leg, prepare the test database before the first test runs."""
    if SERVICES:
        request.getfixturevalue("_services_database")


@pytest.fixture(scope="session")
def celery_worker(_services_database, smtp_sink) -> Iterator[None]:
    """A real `celery -A panel worker` on the TEST database, stopped before it is dropped.

    Depending on django_db_setup (through _services_database) orders the teardown: the
    worker exits, and closes its connections, before pytest-django drops the database.
    """
    from panel.celery import app

    hostname = f"panel-test-{os.getpid()}@localhost"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "panel.settings.test",
        "DATABASE_URL": _database_url(_services_database),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PANEL_DOTENV": "0",
    }
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open for the process's life)
        prefix="panel-celery-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "panel",
            "worker",
            "--pool=solo",
            "-l",
            "warning",
            "-n",
            hostname,
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=1.0):
            if process.poll() is not None or time.monotonic() > deadline:
                output = Path(log.name).read_text(errors="replace")[-4000:]
                pytest.exit(f"the Celery worker did not start:\n{output}", returncode=3)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        Path(log.name).unlink(missing_ok=True)


@pytest.fixture(autouse=True)
def _celery_mode(request):
    """Services tests use the broker and the worker; all others stay eager (see above)."""
    if not SERVICES:
        yield
        return
    from panel.celery import app

    wants_worker = request.node.get_closest_marker("services") is not None
    if wants_worker:
        request.getfixturevalue("celery_worker")
        request.getfixturevalue("smtp_sink").clear()
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = not wants_worker
    try:
        yield
    finally:
        app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fresh_redis_cache():
    """Rate-limit counters live in Redis in the services leg: each test starts clean.

    Only the cache's keys (prefix ``panel``) are removed; the broker's queues and
    bindings in the same Redis database stay.
    """
    if not SERVICES:
        yield
        return
    from django.conf import settings
    from django.core.cache import cache

    prefix = settings.CACHES["default"].get("KEY_PREFIX") or ""
    client = cache._cache.get_client(write=True)
    pattern = f"{prefix}:*" if prefix else ":*"
    for key in client.scan_iter(match=pattern, count=500):
        client.delete(key)
    yield
