"""A disabled account: its sessions end at once, and sign-in says it is disabled only
after the right password (a wrong one is the ordinary failure, counted on the lockout)."""

from __future__ import annotations

from html import escape

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from accounts import controls
from accounts.backends import DISABLED_MESSAGE
from accounts.forms import LOGIN_FAILED as FAILED
from audit.models import AuditEvent
from security.lockout.models import Lockout
from security.sessions.models import TrackedSession
from security.tests.helpers import sign_in_password

pytestmark = pytest.mark.django_db

LOGIN_FAILED = escape(FAILED)


def test_disabling_ends_every_session_at_once(alice, operator):
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.force_login(alice)
        assert browser.get("/dashboard/").status_code == 200
    assert TrackedSession.objects.filter(user=alice, ended_at__isnull=True).count() == 2

    facts = controls.disable_account(actor=operator, user=alice)

    assert facts["sessions_ended"] == 2
    live = TrackedSession.objects.filter(user=alice, ended_at__isnull=True)
    assert not live.exists()
    assert set(TrackedSession.objects.filter(user=alice).values_list("end_reason", flat=True)) == {
        "disabled"
    }
    assert not Session.objects.exists()  # the stored sessions are gone too
    for browser in browsers:
        response = browser.get("/dashboard/")
        assert response.status_code == 302 and response["Location"].startswith("/auth/login/")
    event = AuditEvent.objects.get(action="account_disabled")
    assert event.metadata["sessions_ended"] == 2


def test_a_disabled_account_is_told_so_only_after_the_right_password(client, alice, password):
    controls.disable_account(actor=None, user=alice, source="command")

    wrong = sign_in_password(client, "alice", "not the password")
    assert wrong.status_code == 400
    assert LOGIN_FAILED in wrong.content.decode()
    assert "disabled" not in wrong.content.decode()

    right = sign_in_password(client, "alice", password)
    assert right.status_code == 400
    body = right.content.decode()
    assert DISABLED_MESSAGE in body
    assert LOGIN_FAILED not in body
    assert "_auth_user_id" not in client.session

    failures = AuditEvent.objects.filter(action="signin", outcome="failure", user=alice)
    assert sorted(e.metadata["reason"] for e in failures) == ["bad_credentials", "disabled"]


def test_an_unknown_user_never_gets_the_disabled_message(client, password):
    response = sign_in_password(client, "nobody", password)
    assert response.status_code == 400
    assert DISABLED_MESSAGE not in response.content.decode()


def test_wrong_passwords_for_a_disabled_account_still_lock_the_pair(client, alice, settings):
    controls.disable_account(actor=None, user=alice, source="command")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign_in_password(client, "alice", "wrong guess")
    assert response.status_code == 429
    pair = Lockout.objects.filter(username="alice", ip__isnull=False).get()
    assert pair.locked_until is not None
    assert AuditEvent.objects.filter(action="lockout", user=alice).exists()


def test_an_enabled_account_signs_in_again_with_its_unchanged_password(client, alice, password):
    controls.disable_account(actor=None, user=alice, source="command")
    controls.enable_account(actor=None, user=alice, source="command")
    response = sign_in_password(client, "alice", password)
    assert response.status_code == 302
