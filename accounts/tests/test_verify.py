from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model

from accounts.services import verification_link
from audit.models import AuditEvent

from .conftest import link_path

User = get_user_model()
pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _path(user) -> str:
    return verification_link(user).removeprefix(settings.SITE_URL)


@pytest.fixture
def dana(user_factory):
    return user_factory("dana", email="dana@example.com", verified=False)


def _confirm(client, path):
    """Follow the emailed link like a browser, then press the confirm button."""
    first = client.get(path)
    assert first.status_code == 302, first.status_code
    assert first["Location"] == "/auth/verify/confirm/"
    assert first["Referrer-Policy"] == "no-referrer"
    page = client.get("/auth/verify/confirm/")
    assert page.status_code == 200
    return client.post("/auth/verify/confirm/")


def test_the_emailed_link_verifies_the_address_and_asks_to_sign_in(
    client, send, mailoutbox, signup_data
):
    with send():
        client.post("/auth/signup/", signup_data)
    path = link_path(mailoutbox[0], "/auth/verify/")
    response = _confirm(client, path)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/"
    user = User.objects.get()
    assert user.email_verified_at is not None
    assert AuditEvent.objects.filter(action="email_verified", user=user).count() == 1
    login_page = client.get("/auth/login/")
    assert "Your email address is confirmed" in login_page.content.decode()
    # Not signed in automatically.
    assert client.get("/dashboard/").status_code == 302
    signed_in = client.post(
        "/auth/login/", {"username": "dana.reyes", "password": signup_data["password1"]}
    )
    assert signed_in["Location"] == "/dashboard/"


def test_the_confirm_page_names_the_address_and_keeps_the_token_out_of_its_url(client, dana):
    client.get(_path(dana))
    page = client.get("/auth/verify/confirm/")
    body = page.content.decode()
    assert "dana@example.com" in body
    assert "Confirm email address" in body
    assert _path(dana).rsplit("/", 2)[-2] not in body


def test_a_link_scanner_that_only_fetches_the_link_verifies_nothing(client, dana):
    client.get(_path(dana))
    client.get("/auth/verify/confirm/")
    dana.refresh_from_db()
    assert dana.email_verified_at is None


def test_a_used_link_does_not_work_twice(client, dana):
    path = _path(dana)
    _confirm(client, path)
    again = client.get(path)
    assert again.status_code == 400
    assert "Send a new link" in again.content.decode()
    assert AuditEvent.objects.filter(action="email_verified").count() == 1


def test_the_link_works_until_24_hours_have_passed(client, dana):
    with time_machine.travel(START, tick=False) as clock:
        path = _path(dana)
        clock.shift(timedelta(hours=24) - timedelta(seconds=1))
        assert _confirm(client, path)["Location"] == "/auth/login/"


def test_the_link_fails_one_second_after_24_hours(client, dana):
    with time_machine.travel(START, tick=False) as clock:
        path = _path(dana)
        clock.shift(timedelta(hours=24, seconds=1))
        response = client.get(path)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    dana.refresh_from_db()
    assert dana.email_verified_at is None


@pytest.mark.parametrize(
    "token", ["garbage", "MQ-abc-def", "-", "zzzz-zzzz-zzzz", "MQ-" + "9" * 40 + "-x"]
)
def test_a_malformed_link_gets_a_clear_page_not_an_error(client, dana, token):
    response = client.get(f"/auth/verify/{token}/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_the_confirm_page_without_a_link_is_refused(client, dana):
    assert client.get("/auth/verify/confirm/").status_code == 400
    assert client.post("/auth/verify/confirm/").status_code == 400


def test_a_link_for_an_old_address_does_not_verify_a_new_one(client, dana):
    path = _path(dana)
    dana.email = "dana.new@example.com"
    dana.save()
    assert client.get(path).status_code == 400


def test_the_sign_in_page_offers_the_links_a_newcomer_needs(client):
    body = client.get("/auth/login/").content.decode()
    assert 'href="/auth/signup/"' in body and "Create an account" in body
    assert 'href="/auth/password/reset/"' in body and "Forgot your password?" in body
    assert 'href="/auth/verify/resend/"' in body
    assert "get the verification email?" in body


# --- Send the link again ------------------------------------------------------------------


def test_asking_again_sends_a_new_working_link_to_an_unverified_account(
    client, send, mailoutbox, dana
):
    with send():
        response = client.post("/auth/verify/resend/", {"email": "DANA@example.com"})
    assert response.status_code == 302
    assert response["Location"] == "/auth/verify/sent/"
    assert len(mailoutbox) == 1
    path = link_path(mailoutbox[0], "/auth/verify/")
    assert _confirm(client, path)["Location"] == "/auth/login/"
    event = AuditEvent.objects.get(action="verification_resent")
    assert event.user == dana
    assert event.metadata == {}


def test_asking_again_answers_the_same_for_unknown_and_verified_addresses(
    client, send, mailoutbox, alice, dana
):
    answers = []
    for email in ["nobody@example.com", "alice@example.com", "dana@example.com"]:
        with send():
            response = client.post("/auth/verify/resend/", {"email": email}, follow=True)
        answers.append((response.status_code, response.redirect_chain, response.content))
    assert answers[0] == answers[1] == answers[2]
    assert [m.to for m in mailoutbox] == [["dana@example.com"]]


def test_asking_again_for_one_address_stops_sending_after_three(client, send, mailoutbox, dana):
    for _ in range(4):
        with send():
            response = client.post("/auth/verify/resend/", {"email": "dana@example.com"})
        assert response["Location"] == "/auth/verify/sent/"
    assert len(mailoutbox) == 3


def test_asking_again_from_one_ip_is_limited_with_a_429(client, dana):
    statuses = [
        client.post("/auth/verify/resend/", {"email": f"u{i}@example.com"}).status_code
        for i in range(6)
    ]
    assert statuses == [302] * 5 + [429]


def test_a_bad_address_on_the_resend_form_gets_a_clear_message(client):
    response = client.post("/auth/verify/resend/", {"email": "x" * 300})
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
