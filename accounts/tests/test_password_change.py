import pytest
from django.contrib.sessions.models import Session

from accounts import services
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/settings/security/password/"


def _change(client, current, new, confirm=None):
    return client.post(
        URL,
        {"old_password": current, "new_password1": new, "new_password2": confirm or new},
    )


def _sign_in(client, user):
    client.force_login(user)
    assert client.get("/dashboard/").status_code == 200
    return client


def _sessions_of(user):
    return [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


def test_the_change_form_needs_a_signed_in_user(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/auth/login/")


def test_the_change_form_has_labelled_fields_and_the_strength_meter(alice_client):
    body = alice_client.get(URL).content.decode()
    assert '<label for="id_old_password">Current password</label>' in body
    assert '<label for="id_new_password1">New password</label>' in body
    assert '<label for="id_new_password2">Confirm new password</label>' in body
    assert 'data-strength-url="/auth/password-strength/"' in body
    assert 'src="/static/panel/js/password-strength' in body


def test_changing_the_password_keeps_this_session_and_ends_every_other(
    client, client_factory, send, mailoutbox, alice, password, other_strong_password
):
    here = _sign_in(client, alice)
    there = _sign_in(client_factory(), alice)
    old_key = here.session.session_key
    with send():
        response = _change(here, password, other_strong_password)
    assert response.status_code == 302
    assert response["Location"] == "/settings/security/"
    page = here.get("/settings/security/")
    assert page.status_code == 200
    assert "Your password has been changed" in page.content.decode()

    assert here.session.session_key != old_key
    assert there.get("/dashboard/").status_code == 302
    assert [s.session_key for s in _sessions_of(alice)] == [here.session.session_key]

    alice.refresh_from_db()
    assert alice.check_password(other_strong_password)
    event = AuditEvent.objects.get(action="password_changed")
    assert (event.outcome, event.user, event.actor) == ("success", alice, alice)
    assert event.metadata == {"sessions_ended": 1, "devices_forgotten": 0, "device_kept": False}
    assert [m.subject for m in mailoutbox] == ["Your Panel password was changed"]
    assert "changed from the account settings" in mailoutbox[0].body


def test_a_new_password_alone_ends_other_sessions_even_without_deleting_them(
    client, client_factory, send, alice, password, other_strong_password, monkeypatch
):
    # Django checks each session's hash against the password hash on every request:
    # the rows end_other_sessions deletes are a second line, not the only one.
    monkeypatch.setattr(services, "end_other_sessions", lambda user, **kwargs: 0)
    here = _sign_in(client, alice)
    there = _sign_in(client_factory(), alice)
    with send():
        _change(here, password, other_strong_password)
    assert len(_sessions_of(alice)) == 2
    assert here.get("/dashboard/").status_code == 200
    assert there.get("/dashboard/").status_code == 302


def test_a_wrong_current_password_changes_nothing(
    client, client_factory, send, mailoutbox, alice, password, other_strong_password
):
    here = _sign_in(client, alice)
    there = _sign_in(client_factory(), alice)
    before = alice.password
    with send():
        response = _change(here, "not my password at all", other_strong_password)
    assert response.status_code == 400
    assert "Your current password is not correct" in response.content.decode()
    alice.refresh_from_db()
    assert alice.password == before
    assert there.get("/dashboard/").status_code == 200
    assert mailoutbox == []
    event = AuditEvent.objects.get(action="password_changed")
    assert (event.outcome, event.metadata) == ("failure", {"reason": "wrong_current_password"})


def test_a_weak_or_mismatched_new_password_is_refused(alice_client, alice, password):
    before = alice.password
    weak = _change(alice_client, password, "qwerty123456789")
    assert weak.status_code == 400
    assert "too common" in weak.content.decode()
    mismatch = _change(alice_client, password, "velvet orbit canyon 7 lantern", "other")
    assert "match" in mismatch.content.decode()
    alice.refresh_from_db()
    assert alice.password == before


def test_guessing_the_current_password_is_limited_per_user(alice_client):
    statuses = [_change(alice_client, f"guess {i}", "x").status_code for i in range(11)]
    assert statuses == [400] * 10 + [429]


def test_the_security_tab_shows_the_profile_and_the_password_section(alice_client):
    response = alice_client.get("/settings/security/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Alice Owner" in body
    assert "alice@example.com" in body
    assert "<code>alice</code>" in body
    assert 'href="/settings/security/password/"' in body
    assert "Change password" in body
    assert 'aria-current="page"' in body


def test_the_settings_index_leads_to_the_security_tab(alice_client):
    response = alice_client.get("/settings/")
    assert response["Location"] == "/settings/security/"


def test_end_other_sessions_also_ends_a_half_finished_sign_in(alice, bob, client_factory):
    from importlib import import_module

    from django.conf import settings

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_pending_signin"] = {"user_id": alice.pk, "stage": "2fa"}
    store.create()
    keep = client_factory()
    keep.force_login(alice)
    other = client_factory()
    other.force_login(bob)
    ended = services.end_other_sessions(alice, keep_session_key=keep.session.session_key)
    assert ended == 1
    assert not Session.objects.filter(session_key=store.session_key).exists()
    assert Session.objects.filter(session_key=keep.session.session_key).exists()
    assert Session.objects.filter(session_key=other.session.session_key).exists()
