"""The email pipeline end to end (services leg): Redis, a real Celery worker, SMTP."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from accounts.emails import send_email
from accounts.models import OutboxEmail

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LINK = "https://panel.example.com/auth/verify/one-time-token-7f3a9c/"


def wait_for_status(email: OutboxEmail, status: str, timeout: float = 15.0) -> OutboxEmail:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.status == status:
            return email
        time.sleep(0.1)
    raise AssertionError(f"outbox row stayed {email.status!r}, expected {status!r}")


def test_a_committed_email_goes_through_redis_and_the_worker_to_the_smtp_sink(
    test_email_templates, smtp_sink, mailoutbox
):
    with transaction.atomic():
        email = send_email(
            to="dana@example.com",
            template=test_email_templates,
            context={"name": "Dana", "link": LINK},
        )

    message = smtp_sink.wait_for("dana@example.com")
    assert message["Subject"] == "Panel: pipeline check for Dana"
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in message.walk()
        if not part.is_multipart()
    }
    assert LINK in parts["text/plain"]
    assert f'href="{LINK}"' in parts["text/html"]
    assert mailoutbox == []  # the worker sent it, not this process

    email = wait_for_status(email, OutboxEmail.Status.SENT)
    assert email.attempts == 1
    assert email.body_text == "" and email.body_html == ""


def test_an_email_of_a_rolled_back_transaction_never_reaches_the_worker(
    test_email_templates, smtp_sink
):
    try:
        with transaction.atomic():
            send_email(
                to="erin@example.com",
                template=test_email_templates,
                context={"name": "Erin", "link": LINK},
            )
            raise RuntimeError("the service failed")
    except RuntimeError:
        pass
    # A second, committed email to someone else arrives; the rolled-back one never does.
    with transaction.atomic():
        send_email(
            to="frank@example.com",
            template=test_email_templates,
            context={"name": "Frank", "link": LINK},
        )
    smtp_sink.wait_for("frank@example.com")
    assert all("erin@example.com" not in (m.get("To") or "") for m in smtp_sink.messages)
    assert OutboxEmail.objects.filter(recipient="erin@example.com").count() == 0


def test_the_verification_email_of_a_sign_up_arrives_at_the_smtp_sink(client, smtp_sink):
    from accounts.models import User

    response = client.post(
        "/auth/signup/",
        {
            "email": "grace@example.com",
            "full_name": "Grace Hopper",
            "password1": "compiler nanosecond cobol 1952",
            "password2": "compiler nanosecond cobol 1952",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/auth/signup/done/"

    message = smtp_sink.wait_for("grace@example.com")
    assert message["Subject"] == "Confirm your email address for Panel"
    text = next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    assert "http://localhost:8000/auth/verify/" in text  # built from SITE_URL

    # The link in the real email verifies the account: open it, confirm with the button.
    link = next(word for word in text.split() if "/auth/verify/" in word)
    assert client.get(link.removeprefix("http://localhost:8000")).status_code == 302
    confirmed = client.post("/auth/verify/confirm/")
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/auth/login/"
    assert User.objects.get(email="grace@example.com").email_verified

    outbox = OutboxEmail.objects.get(recipient="grace@example.com", template="verify_email")
    assert wait_for_status(outbox, OutboxEmail.Status.SENT).body_text == ""
