"""Email under faults (services leg), end to end: the outbox, a real Celery worker and an
SMTP server, each test with its OWN Redis server (the broker), worker and SMTP sink on free
ports, so the shared services other tests use are never stopped.

- Redis down: emails wait in the outbox and go out once it is back, none lost, none twice.
- SMTP down, then refusing: retries with backoff, the outbox and the admin show the error
  and the next attempt, the metrics count the failed attempts, everything goes out after.
- A worker killed (SIGKILL) in the middle of the SMTP conversation: after a restart the
  email reaches the SMTP server exactly once (acks late + the claim keyed on the row).

The worker runs with short timings (first retry after 1 s, a 2 s lease, a 3 s visibility
timeout) so that each test takes seconds; production keeps 10 s, 5 min and 1 h.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.emails import send_email
from accounts.models import OutboxEmail
from accounts.tasks import backoff, next_attempt_at, resend_pending_emails, send_outbox_email
from panel.tests.plugin import BASE_DIR, _database_url

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

WORKER_TIMINGS = {
    "EMAIL_RETRY_BACKOFF_SECONDS": "1",
    "EMAIL_SEND_LEASE_SECONDS": "2",
    "EMAIL_MAX_ATTEMPTS": "8",
    "CELERY_VISIBILITY_TIMEOUT": "3",
    "CELERY_RESTORE_INTERVAL": "1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(condition, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


class RedisServer:
    """A private redis-server on a fixed port, which can be stopped and started again."""

    def __init__(self, directory: Path):
        self.port = _free_port()
        self.directory = directory
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def answers() -> bool:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                return False

        _wait(answers, "the private Redis server answering", timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Sink:
    """An aiosmtpd handler: refuses the next ``refuse`` messages (451), stalls the next
    one in DATA while ``stall`` is set (until ``release``), accepts the others."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        self.refuse = 0
        self.refused = 0
        self.stall = False
        self.stalled = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.stall:
            self.stall = False
            self.stalled.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Aborted"
        if self.refuse:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        with self.lock:
            self.messages.append(message_from_bytes(envelope.original_content))
        return "250 Message accepted for delivery"

    def count(self) -> Counter:
        """Messages received per recipient."""
        with self.lock:
            return Counter(message["To"] for message in self.messages)

    def message_ids(self) -> Counter:
        with self.lock:
            return Counter(message["Message-ID"] for message in self.messages)


class SmtpServer:
    def __init__(self):
        self.port = _free_port()
        self.sink = Sink()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


class Worker:
    """`celery -A panel worker` on the test database, the private broker and SMTP server."""

    def __init__(self, database: dict, broker: RedisServer, smtp: SmtpServer):
        self.env = {
            **os.environ,
            **WORKER_TIMINGS,
            "DJANGO_SETTINGS_MODULE": "panel.settings.test",
            "DATABASE_URL": _database_url(database),
            "REDIS_URL": broker.url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp.port}",
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PANEL_DOTENV": "0",
        }
        self.process: subprocess.Popen | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (read at teardown)
            prefix="panel-fault-worker-", suffix=".log", delete=False
        )
        self.hostname = f"panel-fault-{os.getpid()}-{broker.port}@localhost"

    def start(self) -> None:
        from panel.celery import app

        self.process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "celery", "-A", "panel", "worker", "--pool=solo", "-l", "info"),
                *("-n", self.hostname, "--without-gossip", "--without-mingle"),
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[self.hostname], timeout=1.0):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no ack, no cleanup (as an OOM kill or a lost machine)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")[-6000:]


@pytest.fixture
def rig(_services_database, tmp_path, settings):
    """A private broker, SMTP server and worker; this process publishes to that broker."""
    from panel.celery import app

    settings.EMAIL_RETRY_BACKOFF = 1
    broker = RedisServer(tmp_path)
    broker.start()
    smtp = SmtpServer()
    previous = (app.conf.broker_url, app.conf.broker_transport_options)

    def use(url: str, options: dict) -> None:
        app.conf.broker_url = url
        app.conf.broker_transport_options = options
        app._pool = None
        app.amqp._producer_pool = None

    use(broker.url, {})
    workers: list[Worker] = []

    class Rig:
        def __init__(self):
            self.broker, self.smtp = broker, smtp

        def worker(self) -> Worker:
            worker = Worker(_services_database, broker, smtp)
            workers.append(worker)
            worker.start()
            return worker

    try:
        yield Rig()
    finally:
        for worker in workers:
            worker.stop()
        failed_output = "\n".join(w.output() for w in workers)
        for worker in workers:
            worker.log.close()
            Path(worker.log.name).unlink(missing_ok=True)
        smtp.stop()
        broker.stop()
        use(*previous)
        print(failed_output)  # shown by pytest only when the test failed


def _email(to: str) -> OutboxEmail:
    return send_email(to=to, template="signup_existing", context={"user": None})


def _status(*emails: OutboxEmail) -> list[str]:
    return [OutboxEmail.objects.get(pk=e.pk).status for e in emails]


def _settled(rig, recipients: list[str], *pks: int) -> None:
    """Queue again what could send a second copy (each row's task, the periodic re-send),
    then one more email; once that one arrives, the worker has handled the rest."""
    for pk in pks:
        send_outbox_email.delay(pk)
    resend_pending_emails.delay()
    _email("sentinel@example.com")
    _wait(
        lambda: rig.smtp.sink.count()["sentinel@example.com"],
        "the email sent after the duplicates",
    )
    count = rig.smtp.sink.count()
    assert [count[r] for r in recipients] == [1] * len(recipients)
    assert max(rig.smtp.sink.message_ids().values()) == 1


def test_with_redis_down_emails_wait_in_the_outbox_and_go_out_once_when_it_is_back(rig):
    rig.smtp.start()
    rig.worker()
    first = _email("before@example.com")
    _wait(lambda: rig.smtp.sink.count()["before@example.com"], "the email before the outage")

    rig.broker.stop()
    waiting = [_email(f"during{n}@example.com") for n in range(3)]
    # Nothing reached a broker: the rows are the only record, untouched and pending.
    rows = OutboxEmail.objects.filter(pk__in=[e.pk for e in waiting])
    assert {(row.status, row.attempts) for row in rows} == {("pending", 0)}

    # Back, empty (no persistence: whatever the broker held is gone, the outbox is not).
    rig.broker.start()
    # The periodic re-send takes rows left pending for over a minute: a minute passes,
    # and beat sends its task.
    rows.update(created_at=timezone.now() - timedelta(minutes=2))
    resend_pending_emails.delay()
    _wait(lambda: set(_status(*waiting)) == {"sent"}, "the waiting emails sent", timeout=45)

    recipients = ["before@example.com", *(e.recipient for e in waiting)]
    _settled(rig, recipients, first.pk, *(e.pk for e in waiting))
    assert OutboxEmail.objects.filter(status="sent").count() == 5


def test_smtp_down_then_refusing_retries_with_backoff_shows_it_and_sends_everything(
    rig, operator_client
):
    from security.metrics.compute import compute
    from security.metrics.prometheus import exposition

    rig.worker()  # the SMTP server is down: nothing listens on its port
    emails = [_email("one@example.com"), _email("two@example.com")]

    def failing():
        rows = list(OutboxEmail.objects.filter(pk__in=[e.pk for e in emails]))
        return rows if all(row.last_error and row.attempts for row in rows) else None

    rows = _wait(failing, "the first attempts failing")
    for row in rows:
        assert row.status == "pending"
        assert row.last_error.startswith("ConnectionRefusedError")
        assert next_attempt_at(row) == row.last_attempt_at + timedelta(
            seconds=backoff(row.attempts)
        )
    listing = operator_client.get("/admin/accounts/outboxemail/").content.decode()
    assert "ConnectionRefusedError" in listing
    row = rows[0]
    detail = operator_client.get(f"/admin/accounts/outboxemail/{row.pk}/change/").content.decode()
    assert "Next attempt" in detail
    assert "ConnectionRefusedError" in detail
    metrics = compute("24h")
    assert metrics.counts["email_failed_attempts"] >= 2
    assert metrics.counts["emails_pending"] == 2
    assert b"panel_email_failed_attempts" in exposition()

    # SMTP comes back refusing (451) twice, then accepts.
    rig.smtp.sink.refuse = 2
    rig.smtp.start()
    _wait(lambda: set(_status(*emails)) == {"sent"}, "both emails sent", timeout=45)
    assert rig.smtp.sink.refused == 2
    rows = list(OutboxEmail.objects.filter(pk__in=[e.pk for e in emails]))
    assert all(row.attempts >= 2 and row.last_error == "" for row in rows)
    # Every attempt but the ones that sent failed; the metrics say how many.
    assert compute("24h").counts["email_failed_attempts"] == sum(r.attempts for r in rows) - 2
    assert sum(r.attempts for r in rows) - 2 >= 2 + 2  # refused twice, down at least twice
    _settled(rig, ["one@example.com", "two@example.com"], *(e.pk for e in emails))


def test_a_worker_killed_in_the_middle_of_sending_sends_the_email_exactly_once(rig):
    rig.smtp.sink.stall = True
    rig.smtp.start()
    worker = rig.worker()
    email = _email("killed@example.com")
    assert rig.smtp.sink.stalled.wait(30), "the worker never reached DATA"
    worker.kill()
    rig.smtp.sink.release.set()
    row = OutboxEmail.objects.get(pk=email.pk)
    assert (row.status, row.attempts) == ("pending", 1)
    assert rig.smtp.sink.count()["killed@example.com"] == 0

    # A new worker: the unacknowledged task comes back after the visibility timeout, and
    # the row's lease has run out, so it is sent -- once.
    rig.worker()
    _wait(lambda: _status(email) == ["sent"], "the email sent after the restart", timeout=45)
    assert OutboxEmail.objects.get(pk=email.pk).attempts == 2
    _settled(rig, ["killed@example.com"], email.pk)
