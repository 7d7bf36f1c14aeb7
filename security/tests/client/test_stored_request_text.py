"""Request-derived text is stored cleaned and bounded, even past the early header check.

The request-limits middleware refuses control characters in headers; these tests call
the storing code directly (as a task, a command or a future view might, without the
middleware) with the values PostgreSQL refuses (NUL, in text and in jsonb) or that would
break a log or table line. The services leg runs them on PostgreSQL.
"""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from audit.models import AuditEvent
from audit.services import audit, clean_metadata
from panel import headers as useragent
from security.client.context import client_context

pytestmark = pytest.mark.django_db

HOSTILE_AGENT = "Mozilla/5.0\x00 (X11;\x1b[31m \r\nLinux)\x7f\x85 caf\xc3\xa9 \xc3\x28" + "z" * 9000


def _is_clean(text: str) -> bool:
    return not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in text) and not (
        {"\u2028", "\u2029"} & set(text)
    )


def test_the_audit_trail_stores_a_hostile_user_agent_cleaned_and_bounded():
    request = RequestFactory().get("/", HTTP_USER_AGENT=HOSTILE_AGENT)
    event = audit("signin", request=request, outcome=AuditEvent.Outcome.FAILURE)
    event.refresh_from_db()
    assert _is_clean(event.user_agent)
    assert len(event.user_agent) <= 1000
    assert event.user_agent.startswith("Mozilla/5.0  (X11;")  # each control: a space
    assert "café" in event.user_agent  # UTF-8 bytes over latin-1 read back as text


def test_the_audit_trail_stores_metadata_with_a_nul_without_failing():
    event = audit("signin", metadata={"login": "al\x00ice", "na\x00me": ["x\x00"]})
    event.refresh_from_db()
    assert "\x00" not in repr(event.metadata)
    assert event.metadata["login"] == "al\ufffdice"


def test_clean_metadata_replaces_nul_in_keys_and_nested_values():
    cleaned = clean_metadata({"a\x00": {"b": "c\x00"}, "list": ["\x00"]})
    assert cleaned == {"a\ufffd": {"b": "c\ufffd"}, "list": ["\ufffd"]}


def test_the_client_context_cleans_and_bounds_the_user_agent():
    request = RequestFactory().get("/", HTTP_USER_AGENT=HOSTILE_AGENT)
    context = client_context(request)
    assert _is_clean(context.user_agent)
    assert len(context.user_agent) <= useragent.MAX_STORED
    assert "café" in context.user_agent and "\ufffd(" in context.user_agent


def test_useragent_clean_keeps_an_ordinary_header_unchanged():
    ordinary = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0.0.0"
    assert useragent.clean(ordinary) == ordinary
    assert useragent.clean("a\tb") == "a b"
    assert useragent.clean(None) == ""


def test_a_failed_password_is_counted_and_axes_stores_the_request_text_cleaned(user_factory):
    """Past the middleware (which refuses these headers), a wrong password with a NUL in
    User-Agent and Accept is still counted on the pair's row first, and django-axes's
    records hold the text cleaned: on PostgreSQL the raw NUL failed the request (500)
    before the failure was counted."""
    from axes.models import AccessAttempt
    from django.contrib.auth import authenticate

    from security.lockout.models import Lockout

    user_factory("alice")
    request = RequestFactory().post(
        "/auth/login/", HTTP_USER_AGENT=HOSTILE_AGENT, HTTP_ACCEPT="text/html\x00\x1b"
    )
    assert authenticate(request, username="alice", password="wrong password 1") is None
    assert Lockout.objects.get(username="alice", ip="127.0.0.1").failures == 1
    attempt = AccessAttempt.objects.get(username="alice")
    for text in (attempt.user_agent, attempt.http_accept):
        assert _is_clean(text)
    assert attempt.user_agent.startswith("Mozilla/5.0  (X11;")
    assert len(attempt.user_agent) <= 255
