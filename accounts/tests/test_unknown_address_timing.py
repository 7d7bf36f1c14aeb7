"""Reset and resend for an address without an account do the work of a send (render the
email, compute its link's token) and nothing more: no write, no email. Their response time
then does not say whether an address has an account (security review H1)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.test.signals import template_rendered

from accounts import services
from accounts.models import OutboxEmail
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

UNKNOWN = "nobody-here@example.com"


@contextmanager
def rendered_templates():
    names: list[str] = []

    def record(sender, template, context, **kwargs):
        names.append(template.name)

    template_rendered.connect(record)
    try:
        yield names
    finally:
        template_rendered.disconnect(record)


@contextmanager
def tokens_made(monkeypatch):
    """Spy on the two token makers (the real ones still run)."""
    calls: list[str] = []
    reset_make = services.default_token_generator.make_token
    verify_make = services.make_verification_token

    def reset_spy(user):
        calls.append("reset")
        return reset_make(user)

    def verify_spy(user):
        calls.append("verify")
        return verify_make(user)

    monkeypatch.setattr(services.default_token_generator, "make_token", reset_spy)
    monkeypatch.setattr(services, "make_verification_token", verify_spy)
    yield calls


def email_templates(name: str) -> list[str]:
    """What rendering one email renders (the HTML body extends the layout)."""
    parts = [f"emails/{name}{part}" for part in ("_subject.txt", "_body.txt", "_body.html")]
    return [*parts, "emails/_layout.html"]


def test_a_reset_for_an_unknown_address_renders_the_email_and_writes_nothing(
    monkeypatch, mailoutbox, django_assert_num_queries
):
    with (
        tokens_made(monkeypatch) as tokens,
        rendered_templates() as names,
        django_assert_num_queries(1),  # the lookup; nothing written
    ):
        assert services.request_password_reset(email=UNKNOWN) is False
    assert names == email_templates("password_reset")
    assert tokens == ["reset"]
    assert not OutboxEmail.objects.exists()
    assert not AuditEvent.objects.exists()
    assert mailoutbox == []


def test_a_reset_for_a_known_address_renders_the_same_templates(alice, monkeypatch):
    with tokens_made(monkeypatch) as tokens, rendered_templates() as names:
        assert services.request_password_reset(email=alice.email) is True
    assert names == email_templates("password_reset")
    assert tokens == ["reset"]
    assert OutboxEmail.objects.get().recipient == alice.email


def test_a_rate_limited_reset_renders_too_but_sends_nothing(alice, monkeypatch):
    with tokens_made(monkeypatch) as tokens, rendered_templates() as names:
        assert services.request_password_reset(email=alice.email, send=False) is False
    assert names == email_templates("password_reset")
    assert tokens == ["reset"]
    assert not OutboxEmail.objects.exists()


@pytest.mark.parametrize("who", ["unknown", "verified"])
def test_a_resend_that_sends_nothing_renders_the_email_and_writes_nothing(
    who, alice, monkeypatch, mailoutbox, django_assert_num_queries
):
    email = UNKNOWN if who == "unknown" else alice.email
    with (
        tokens_made(monkeypatch) as tokens,
        rendered_templates() as names,
        django_assert_num_queries(1),
    ):
        assert services.resend_verification(email=email) is False
    assert names == email_templates("verify_email")
    assert tokens == ["verify"]
    assert not OutboxEmail.objects.exists()
    assert mailoutbox == []


def test_a_resend_for_an_unverified_account_renders_and_sends(user_factory, monkeypatch):
    user = user_factory("newbie", verified=False)
    with tokens_made(monkeypatch) as tokens, rendered_templates() as names:
        assert services.resend_verification(email=user.email) is True
    assert names == email_templates("verify_email")
    assert tokens == ["verify"]
    assert OutboxEmail.objects.get().recipient == user.email
