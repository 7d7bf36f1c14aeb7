"""The email pipeline: outbox row, on-commit queueing, retries, re-send, no double send."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts import tasks
from accounts.emails import send_email
from accounts.models import OutboxEmail
from accounts.tasks import backoff, resend_pending_emails, send_outbox_email

pytestmark = pytest.mark.django_db

LINK = "https://panel.example.com/auth/verify/one-time-token-7f3a9c/"
FAILING_BACKEND = "accounts.tests.test_email_pipeline.FailingSMTPBackend"
SENT_MAIL_LOG: list[str] = []


class FailingSMTPBackend(BaseEmailBackend):
    """An email backend whose SMTP server always refuses."""

    def send_messages(self, email_messages):
        SENT_MAIL_LOG.append("refused")
        raise smtplib.SMTPException("421 service not available")


def queue(template: str, to: str = "dana@example.com") -> OutboxEmail:
    return send_email(to=to, template=template, context={"name": "Dana", "link": LINK})


def test_an_email_is_recorded_and_sent_once_the_transaction_commits(
    test_email_templates, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(test_email_templates)
        assert mailoutbox == []  # nothing leaves before the commit

    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.SENT
    assert email.attempts == 1
    assert email.sent_at is not None
    assert email.template == "pipeline_check"
    assert email.recipient == "dana@example.com"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["dana@example.com"]
    assert message.subject == "Panel: pipeline check for Dana"
    assert LINK in message.body
    assert message.alternatives[0][1] == "text/html"


def test_nothing_is_queued_when_the_transaction_rolls_back(
    test_email_templates, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                queue(test_email_templates)
                raise RuntimeError("the service failed after queueing")
        except RuntimeError:
            pass
    assert callbacks == []
    assert OutboxEmail.objects.count() == 0
    assert mailoutbox == []


def test_the_body_is_cleared_once_sent_and_never_logged(
    test_email_templates, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(test_email_templates)
    assert email.body_text and LINK in email.body_text  # kept until it is sent

    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.SENT
    assert email.body_text == ""
    assert email.body_html == ""
    assert "one-time-token" not in caplog.text
    assert "sent on attempt 1" in caplog.text


def test_an_smtp_failure_counts_an_attempt_and_keeps_the_email_pending(
    test_email_templates, settings, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(test_email_templates)

    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.PENDING
    assert email.attempts == 1
    assert email.last_error == "SMTPException: 421 service not available"
    assert email.body_text  # still needed for the next attempt
    assert mailoutbox == []
    assert "attempt 1/5 failed: SMTPException" in caplog.text
    assert "one-time-token" not in caplog.text


def test_an_email_fails_for_good_after_email_max_attempts(
    test_email_templates, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    settings.EMAIL_MAX_ATTEMPTS = 3
    with time_machine.travel("2026-01-05 09:00Z", tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            email = queue(test_email_templates)
        for expected in (2, 3):
            clock.shift(tasks.lease() + timedelta(seconds=1))
            assert resend_pending_emails() == 1
            email.refresh_from_db()
            assert email.attempts == expected
        assert email.status == OutboxEmail.Status.FAILED
        clock.shift(tasks.lease() * 2)
        assert resend_pending_emails() == 0  # failed rows are left for an operator
        assert send_outbox_email.delay(email.pk).get() == "skipped"
    email.refresh_from_db()
    assert email.attempts == 3


def test_outside_eager_mode_the_task_retries_with_exponential_backoff(
    test_email_templates, settings, monkeypatch
):
    settings.EMAIL_BACKEND = FAILING_BACKEND
    email = queue(test_email_templates)  # no on-commit: the test drives the task itself
    retries = []

    class Retry(Exception):
        pass

    def fake_retry(*, countdown, args, kwargs):
        retries.append((countdown, args, kwargs))
        return Retry()

    monkeypatch.setattr(send_outbox_email, "retry", fake_retry)
    after = None
    for _ in range(4):
        with pytest.raises(Retry):
            send_outbox_email(email.pk, after_attempt=after)  # a worker's call: not eager
        after = retries[-1][2]["after_attempt"]

    assert [countdown for countdown, _, _ in retries] == [10, 20, 40, 80]
    assert [kwargs["after_attempt"] for _, _, kwargs in retries] == [1, 2, 3, 4]
    assert all(args == (email.pk,) for _, args, _ in retries)
    assert send_outbox_email(email.pk, after_attempt=after) == "failed"  # the fifth
    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.FAILED
    assert email.attempts == 5


def test_backoff_doubles_and_is_capped_at_ten_minutes():
    assert [backoff(n) for n in (1, 2, 3, 4, 5, 6, 7, 8)] == [10, 20, 40, 80, 160, 320, 600, 600]


def test_a_broker_outage_leaves_the_email_pending_and_the_periodic_task_sends_it(
    test_email_templates, mailoutbox, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with time_machine.travel("2026-01-05 09:00Z", tick=False) as clock:
        with monkeypatch.context() as patch:
            patch.setattr(send_outbox_email, "delay", broker_down)
            with django_capture_on_commit_callbacks(execute=True):
                email = queue(test_email_templates)  # the request itself does not fail
        email.refresh_from_db()
        assert email.status == OutboxEmail.Status.PENDING
        assert email.attempts == 0
        assert "left pending: broker unavailable (OperationalError)" in caplog.text

        assert resend_pending_emails() == 0  # too fresh: its own enqueue may still arrive
        clock.shift(timedelta(minutes=1, seconds=1))
        assert resend_pending_emails() == 1

    email.refresh_from_db()
    assert email.status == OutboxEmail.Status.SENT
    assert len(mailoutbox) == 1
    assert LINK in mailoutbox[0].body


def test_an_email_already_sent_is_not_sent_again(
    test_email_templates, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        email = queue(test_email_templates)
    assert len(mailoutbox) == 1

    assert send_outbox_email.delay(email.pk).get() == "skipped"
    assert send_outbox_email.delay(email.pk, after_attempt=1).get() == "skipped"
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert resend_pending_emails() == 0
    assert len(mailoutbox) == 1
    email.refresh_from_db()
    assert email.attempts == 1


def test_an_email_another_worker_is_sending_is_not_sent_twice(test_email_templates, mailoutbox):
    email = queue(test_email_templates)
    # Another worker claimed it a moment ago (its attempt is in flight).
    OutboxEmail.objects.filter(pk=email.pk).update(attempts=1, last_attempt_at=timezone.now())

    assert send_outbox_email.delay(email.pk).get() == "skipped"  # a duplicate delivery
    assert send_outbox_email.delay(email.pk, after_attempt=0).get() == "skipped"  # stale retry
    assert resend_pending_emails() == 0
    assert mailoutbox == []

    # Once its lease has run out, the row is fair game again (the worker died).
    with time_machine.travel(timezone.now() + tasks.lease() + timedelta(seconds=1)):
        assert resend_pending_emails() == 1
    assert len(mailoutbox) == 1


def test_a_scheduled_retry_claims_the_row_it_failed_on(test_email_templates, mailoutbox):
    email = queue(test_email_templates)
    OutboxEmail.objects.filter(pk=email.pk).update(attempts=2, last_attempt_at=timezone.now())

    assert send_outbox_email.delay(email.pk, after_attempt=2).get() == "sent"
    email.refresh_from_db()
    assert email.attempts == 3
    assert len(mailoutbox) == 1


def test_a_recipient_with_a_line_break_is_refused(test_email_templates):
    with pytest.raises(ValueError, match="line breaks"):
        send_email(
            to="dana@example.com\r\nBcc: eve@example.com",
            template=test_email_templates,
            context={"name": "Dana", "link": LINK},
        )
    assert OutboxEmail.objects.count() == 0


def test_the_subject_is_one_line_even_if_the_template_breaks_it(test_email_templates):
    email = send_email(
        to="dana@example.com",
        template=test_email_templates,
        context={"name": "Dana\r\nBcc: eve@example.com", "link": LINK},
    )
    assert "\n" not in email.subject and "\r" not in email.subject


def test_a_failed_email_an_operator_puts_back_is_sent_at_once(test_email_templates, mailoutbox):
    email = queue(test_email_templates)
    OutboxEmail.objects.filter(pk=email.pk).update(
        status=OutboxEmail.Status.FAILED, attempts=5, last_attempt_at=timezone.now()
    )
    assert send_outbox_email.delay(email.pk).get() == "skipped"

    OutboxEmail.objects.filter(pk=email.pk).update(status=OutboxEmail.Status.PENDING, attempts=0)
    assert send_outbox_email.delay(email.pk).get() == "sent"
    assert send_outbox_email.delay(email.pk).get() == "skipped"
    assert len(mailoutbox) == 1


def test_every_attempt_of_an_outbox_row_carries_the_same_message_id(
    test_email_templates, settings, mailoutbox, django_capture_on_commit_callbacks
):
    """A second copy (a worker killed between the server's 250 and the mark) is the same
    message to the receiving side, never a second one."""
    settings.EMAIL_BACKEND = FAILING_BACKEND
    with time_machine.travel("2026-01-05 09:00Z", tick=False) as clock:
        with django_capture_on_commit_callbacks(execute=True):
            email = queue(test_email_templates)
            other = queue(test_email_templates, to="erin@example.com")
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        clock.shift(tasks.lease() + timedelta(seconds=1))
        assert resend_pending_emails() == 2
    email.refresh_from_db()
    assert email.attempts == 2 and email.status == OutboxEmail.Status.SENT
    ids = {m.to[0]: m.extra_headers["Message-ID"] for m in mailoutbox}
    assert ids["dana@example.com"] == tasks.message_id(email)
    assert ids["dana@example.com"].startswith(f"<outbox-{email.pk}-")
    assert ids["erin@example.com"] == tasks.message_id(other) != ids["dana@example.com"]
    assert str(mailoutbox[0].message()["Message-ID"]) in ids.values()
