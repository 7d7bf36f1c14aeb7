from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model

from audit.models import AuditEvent

from .conftest import link_path

User = get_user_model()
pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _request(client, send, email="alice@example.com", **extra):
    with send():
        return client.post("/auth/password/reset/", {"email": email}, **extra)


def _open_link(client, path):
    """Follow the link: the token moves into the session, the form page has none."""
    first = client.get(path)
    assert first.status_code == 302, first.status_code
    assert first["Referrer-Policy"] == "no-referrer"
    assert first["Location"].endswith("/set-password/")
    return first["Location"]


def _set(client, form_url, password):
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def test_the_reset_page_has_a_labelled_email_field(client):
    body = client.get("/auth/password/reset/").content.decode()
    assert '<label for="id_email">Email address</label>' in body


def test_a_reset_link_is_emailed_to_a_known_address(client, send, mailoutbox, alice):
    response = _request(client, send, "ALICE@EXAMPLE.COM")
    assert response.status_code == 302
    assert response["Location"] == "/auth/password/reset/sent/"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["alice@example.com"]
    link_path(mailoutbox[0], "/auth/password/reset/")
    event = AuditEvent.objects.get(action="password_reset_requested")
    assert event.user == alice
    assert event.metadata == {"sent": True}


def test_known_and_unknown_addresses_get_the_same_answer(client, send, mailoutbox, alice):
    known = _request(client, send, "alice@example.com", follow=True)
    unknown = _request(client, send, "nobody@example.com", follow=True)
    assert known.status_code == unknown.status_code == 200
    assert known.redirect_chain == unknown.redirect_chain
    assert known.content == unknown.content
    assert len(mailoutbox) == 1
    assert AuditEvent.objects.filter(action="password_reset_requested").count() == 1


def test_the_link_is_built_from_the_site_url_not_the_host_header(
    client, send, mailoutbox, alice, settings
):
    settings.SITE_URL = "https://panel.example.com"
    _request(client, send, HTTP_HOST="localhost")
    path = link_path(mailoutbox[0], "/auth/password/reset/")
    assert "localhost" not in mailoutbox[0].body
    assert "localhost" not in mailoutbox[0].alternatives[0][0]
    assert path.startswith("/auth/password/reset/")


def test_a_new_password_from_the_link_ends_every_session_and_does_not_sign_in(
    client, client_factory, send, mailoutbox, alice, password, other_strong_password
):
    elsewhere = client_factory()
    elsewhere.force_login(alice)
    assert elsewhere.get("/dashboard/").status_code == 200

    _request(client, send)
    form_url = _open_link(client, link_path(mailoutbox[0], "/auth/password/reset/"))
    page = client.get(form_url)
    assert page.status_code == 200
    assert "Choose a new password" in page.content.decode()
    with send():
        response = _set(client, form_url, other_strong_password)
    assert response.status_code == 302
    assert response["Location"] == "/auth/login/"

    alice.refresh_from_db()
    assert alice.check_password(other_strong_password)
    assert not alice.check_password(password)
    # Nobody is signed in: not this browser, not the other session.
    assert client.get("/dashboard/").status_code == 302
    assert elsewhere.get("/dashboard/").status_code == 302
    assert AuditEvent.objects.filter(action="password_reset", user=alice).count() == 1
    notice = mailoutbox[-1]
    assert notice.subject == "Your Panel password was changed"
    assert "reset with an emailed link" in notice.body
    # The new password works, the old one does not.
    assert "Sign in with your new password" in client.get("/auth/login/").content.decode()
    old = client.post("/auth/login/", {"username": "alice", "password": password})
    assert old.status_code == 400
    new = client.post("/auth/login/", {"username": "alice", "password": other_strong_password})
    assert new["Location"] == "/dashboard/"


def test_a_reset_link_works_only_once(client, send, mailoutbox, alice, other_strong_password):
    _request(client, send)
    path = link_path(mailoutbox[0], "/auth/password/reset/")
    with send():
        _set(client, _open_link(client, path), other_strong_password)
    again = client.get(path)
    assert again.status_code == 400
    assert "This link is not valid" in again.content.decode()
    assert "Ask for a new link" in again.content.decode()


def test_the_link_works_for_59_minutes(client, send, mailoutbox, alice, other_strong_password):
    with time_machine.travel(START, tick=False) as clock:
        _request(client, send)
        clock.shift(timedelta(minutes=59))
        form_url = _open_link(client, link_path(mailoutbox[0], "/auth/password/reset/"))
        with send():
            assert _set(client, form_url, other_strong_password).status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(other_strong_password)


def test_the_link_fails_after_61_minutes(client, send, mailoutbox, alice, password):
    with time_machine.travel(START, tick=False) as clock:
        _request(client, send)
        clock.shift(timedelta(minutes=61))
        response = client.get(link_path(mailoutbox[0], "/auth/password/reset/"))
    assert response.status_code == 400
    assert response["Referrer-Policy"] == "no-referrer"
    alice.refresh_from_db()
    assert alice.check_password(password)


def test_the_form_refuses_a_weak_new_password(client, send, mailoutbox, alice, password):
    _request(client, send)
    form_url = _open_link(client, link_path(mailoutbox[0], "/auth/password/reset/"))
    response = _set(client, form_url, "qwerty123456789")
    assert response.status_code == 400
    assert "too common" in response.content.decode()
    alice.refresh_from_db()
    assert alice.check_password(password)


def test_a_garbage_reset_link_gets_a_clear_page(client):
    response = client.get("/auth/password/reset/xx/yy-zz/")
    assert response.status_code == 400
    assert "This link is not valid" in response.content.decode()


def test_resetting_also_confirms_an_unverified_address(
    client, send, mailoutbox, user_factory, other_strong_password
):
    dana = user_factory("dana", verified=False)
    _request(client, send, "dana@example.com")
    with send():
        _set(
            client,
            _open_link(client, link_path(mailoutbox[0], "/auth/password/reset/")),
            other_strong_password,
        )
    dana.refresh_from_db()
    assert dana.email_verified_at is not None


def test_a_disabled_account_gets_no_reset_email(client, send, mailoutbox, user_factory):
    user_factory("eve", is_active=False)
    assert _request(client, send, "eve@example.com")["Location"] == "/auth/password/reset/sent/"
    assert mailoutbox == []


def test_a_fourth_request_for_one_account_within_an_hour_sends_nothing(
    client, send, mailoutbox, alice
):
    for _ in range(4):
        assert _request(client, send)["Location"] == "/auth/password/reset/sent/"
    assert len(mailoutbox) == 3
    sent = AuditEvent.objects.filter(action="password_reset_requested")
    assert sorted(e.metadata["sent"] for e in sent) == [False, True, True, True]


def test_a_sixth_request_from_one_ip_within_an_hour_gets_429(client, send, mailoutbox, alice):
    statuses = [_request(client, send, f"u{i}@example.com").status_code for i in range(6)]
    assert statuses == [302] * 5 + [429]
    assert "Too many requests" in _request(client, send).content.decode()


def test_the_limits_reset_after_an_hour(client, send, mailoutbox, alice):
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            _request(client, send)
        clock.shift(timedelta(hours=1, minutes=1))
        _request(client, send)
    assert len(mailoutbox) == 4
