"""A passkey confirms who the user is for a step-up, as the password or a 2FA code does;
a refused one is audited and counted on the lockout."""

from __future__ import annotations

import json

import pytest
from axes.models import AccessAttempt

from audit.models import AuditEvent
from security.tests.helpers import browser, sign_in
from security.tests.passkeys.conftest import options, passwordless

pytestmark = pytest.mark.django_db

STEPUP = "/settings/sessions/confirm/"


@pytest.fixture
def signed_in(with_passkey):
    """Alice signed in with her passkey; her step-up is not fresh."""
    client = with_passkey.client
    assert passwordless(client, with_passkey.authenticator).status_code == 302
    session = client.session
    session.pop("_stepup_at", None)
    session.pop("_hs_verified_at", None)  # the passkey sign-in counted as a step-up
    session.save()
    return with_passkey


def stepup_answer(client, authenticator, **lie) -> dict:
    return authenticator.get(options(client, STEPUP + "passkey/options/"), **lie)


def test_the_step_up_page_offers_the_passkey(signed_in):
    page = signed_in.client.get(STEPUP + "?next=/settings/security/").content.decode()
    assert "Use your passkey" in page and 'data-passkey-form="stepup"' in page


def test_a_passkey_steps_up_and_the_page_it_guarded_opens(signed_in):
    client = signed_in.client
    assert client.get("/settings/security/passkeys/add/").status_code == 302
    answer = stepup_answer(client, signed_in.authenticator)
    response = client.post(
        STEPUP,
        {
            "factor": "passkey",
            "next": "/settings/security/passkeys/add/",
            "credential": json.dumps(answer),
        },
    )
    assert (
        response.status_code == 302 and response["Location"] == "/settings/security/passkeys/add/"
    )
    assert client.get("/settings/security/passkeys/add/").status_code == 200
    event = AuditEvent.objects.filter(action="stepup").latest("pk")
    assert event.outcome == "success" and event.metadata == {
        "factor": "passkey",
        "high_security_verified": True,
    }


def test_a_refused_passkey_step_up_is_audited_and_counted(signed_in):
    client = signed_in.client
    answer = stepup_answer(client, signed_in.authenticator, origin="https://evil.example")
    response = client.post(STEPUP, {"factor": "passkey", "credential": json.dumps(answer)})
    assert response.status_code == 400
    assert "could not be used" in response.content.decode()
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1
    event = AuditEvent.objects.filter(action="stepup").latest("pk")
    assert event.outcome == "failure"
    assert event.metadata == {"factor": "passkey", "reason": "invalid"}
    assert client.get("/settings/security/passkeys/add/").status_code == 302


def test_a_dismissed_step_up_prompt_counts_nothing(signed_in):
    client = signed_in.client
    stepup_answer(client, signed_in.authenticator)
    response = client.post(STEPUP, {"factor": "passkey", "error": "cancelled"})
    assert response.status_code == 400 and "closed or timed out" in response.content.decode()
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_a_user_without_a_passkey_gets_no_passkey_step_up(bob, password):
    client = browser("203.0.113.80")
    sign_in(client, bob, password)
    assert "Use your passkey" not in client.get(STEPUP).content.decode()
    response = client.post(STEPUP + "passkey/options/")
    assert response.status_code == 400


def test_high_security_offers_a_passkey_only_account_its_passkey_and_no_password(signed_in):
    page = signed_in.client.get(STEPUP + "?level=2fa&next=/dashboard/").content.decode()
    assert "Verify with two-factor authentication" in page and "Use your passkey" in page
    assert 'name="password"' not in page and 'name="level" value="2fa"' in page
