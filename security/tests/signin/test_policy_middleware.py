"""Decorators declare, the policy middleware enforces, and a typed refusal that no view
caught becomes its page (security.middleware.PolicyMiddleware)."""

from __future__ import annotations

import time

import pytest

from security.stepup import state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _policy_urls(settings):
    settings.ROOT_URLCONF = "security.tests.signin.policy_urls"


def test_a_page_that_declares_a_step_up_sends_a_user_without_one_to_confirm_first(alice_client):
    response = alice_client.get("/test/needs-stepup/?tab=1")
    assert response.status_code == 302
    assert (
        response["Location"]
        == "/settings/sessions/confirm/?next=%2Ftest%2Fneeds-stepup%2F%3Ftab%3D1"
    )


def test_a_page_that_declares_a_step_up_opens_after_a_recent_one(alice_client):
    session = alice_client.session
    session[state.STEPUP_KEY] = time.time()
    session.save()
    response = alice_client.get("/test/needs-stepup/")
    assert response.status_code == 200
    assert response.content == b"the sensitive page"


def test_a_raised_step_up_refusal_becomes_the_confirm_page_redirect(alice_client):
    response = alice_client.get("/test/raises-stepup/")
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/sessions/confirm/?next=")


def test_a_raised_lock_becomes_the_locked_page_with_retry_after(alice_client):
    response = alice_client.get("/test/raises-locked/")
    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    assert b"5 minutes" in response.content


def test_any_other_refusal_becomes_the_error_page_with_its_message(alice_client):
    response = alice_client.get("/test/raises-refusal/")
    assert response.status_code == 400
    assert b"This sign-in was already decided." in response.content
    assert response["Content-Security-Policy"]
