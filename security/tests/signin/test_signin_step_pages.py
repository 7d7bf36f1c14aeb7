"""The sign-in step pages (/auth/2fa/, /auth/device/, /auth/held/) opened out of turn: by a
browser that is already signed in, or while a sign-in waits at another step."""

from __future__ import annotations

import pytest

from security.devices import services as devices
from security.signin import pending
from security.tests.helpers import (
    SAFARI_IPHONE,
    browser,
    code_from,
    enroll,
    sign_in,
    start_two_factor,
    submit_code,
    trusted_browser,
)

pytestmark = pytest.mark.usefixtures("emails_sent_at_once")

EXPIRED = "Your sign-in expired"
STEP_PAGES = ["/auth/2fa/", "/auth/device/", "/auth/held/"]


@pytest.fixture(autouse=True)
def _new_device_approval(settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.NEW_DEVICE_APPROVAL = True


@pytest.mark.parametrize("path", STEP_PAGES)
def test_a_signed_in_browser_opening_a_step_page_goes_to_the_dashboard_without_a_notice(
    alice, password, path
):
    client = trusted_browser(alice, password)
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    dashboard = client.get("/dashboard/").content.decode()
    assert EXPIRED not in dashboard
    assert "sign in again" not in dashboard.lower()
    assert client.session.get("_auth_user_id") == str(alice.pk)


@pytest.mark.parametrize("path", ["/auth/2fa/", "/auth/device/", "/auth/device/resend/"])
def test_a_signed_in_browser_posting_to_a_step_goes_to_the_dashboard(alice, password, path):
    client = trusted_browser(alice, password)
    response = client.post(path, {"code": "123456"})
    assert response.status_code == 302
    assert response["Location"] == "/dashboard/"
    assert EXPIRED not in client.get("/dashboard/").content.decode()


def test_the_held_page_leaves_a_pending_2fa_sign_in_alone(alice, password):
    enrolled = enroll(alice)
    client = browser()
    start_two_factor(client, alice, password)

    response = client.get("/auth/held/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/"
    assert pending.SESSION_KEY in client.session

    page = client.get("/auth/2fa/")
    assert page.status_code == 200
    assert EXPIRED not in page.content.decode()
    done = submit_code(client, enrolled.code())
    assert done.status_code == 302
    assert done["Location"] == "/dashboard/"
    assert client.session.get("_auth_user_id") == str(alice.pk)


def test_the_held_page_leaves_a_pending_device_code_alone(alice, password, mailoutbox):
    trusted_browser(alice, password)
    phone = browser("198.51.100.20", SAFARI_IPHONE)
    assert sign_in(phone, alice, password)["Location"] == "/auth/device/"

    response = phone.get("/auth/held/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/device/"
    assert pending.SESSION_KEY in phone.session
    assert devices.CHALLENGE_KEY in phone.session

    done = phone.post("/auth/device/", {"code": code_from(mailoutbox)})
    assert done.status_code == 302
    assert done["Location"] == "/dashboard/"
    assert phone.session.get("_auth_user_id") == str(alice.pk)


def test_the_held_page_with_nothing_waiting_still_says_the_sign_in_expired(client):
    response = client.get("/auth/held/", follow=True)
    assert response.redirect_chain[-1][0] == "/auth/login/"
    assert EXPIRED in response.content.decode()


def test_asking_for_a_new_device_code_during_the_2fa_step_leaves_it_alone(alice, password):
    enrolled = enroll(alice)
    client = browser()
    start_two_factor(client, alice, password)
    response = client.post("/auth/device/resend/")
    assert response.status_code == 302
    assert response["Location"] == "/auth/2fa/"
    assert submit_code(client, enrolled.code())["Location"] == "/dashboard/"
