"""Account controls through the real pipeline (services leg): PostgreSQL row locks, Redis,
a Celery worker and the SMTP sink deliver the email change's two emails and the disabled
account's notice."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory

from accounts import controls
from accounts.models import User

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def text_of(message) -> str:
    return next(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )


def test_an_email_change_mails_both_addresses_and_its_link_confirms_it(user_factory, smtp_sink):
    user = user_factory("erin", email="erin@example.com")
    request = RequestFactory().post("/settings/security/email/")
    request.user = user
    controls.request_email_change(user=user, new_email="erin@new.example", request=request)

    confirm = text_of(smtp_sink.wait_for("erin@new.example"))
    notice = text_of(smtp_sink.wait_for("erin@example.com"))
    assert "/auth/email/undo/" in notice
    token = re.search(r"/auth/email/confirm/([^/\s]+)/", confirm).group(1)

    controls.confirm_email_change(token=token)
    assert User.objects.get(pk=user.pk).email == "erin@new.example"


def test_a_disabled_account_is_told_by_email(user_factory, smtp_sink):
    user = user_factory("finn", email="finn@example.com")
    controls.disable_account(actor=None, user=user, source="command")
    message = smtp_sink.wait_for("finn@example.com")
    assert message["Subject"] == "Your Panel account was disabled"
