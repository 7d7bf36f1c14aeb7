"""Tracked sessions: the record, activity writes, timeouts, revocation, sign-out,
password change, disabled accounts and single-session mode."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from security.models import TrackedSession, TrustedDevice
from security.sessions import services as tracked
from security.stepup.services import stepup_is_recent
from security.tests.helpers import (
    CHROME_LINUX,
    FIREFOX_WINDOWS,
    LONDON,
    PARIS,
    SAFARI_IPHONE,
    browser,
    sign_in,
)

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def _no_holds_or_codes(settings):
    # These tests are about sessions; the device and suspicious steps have their own.
    settings.NEW_DEVICE_APPROVAL = False
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


def _writes(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(WRITES)]


def _record_of(client) -> TrackedSession:
    key = client.cookies["sessionid"].value
    return TrackedSession.objects.get(session_key_hash=hashlib.sha256(key.encode()).hexdigest())


def _step_up(client, password):
    response = client.post(
        "/settings/sessions/confirm/", {"password": password, "next": "/settings/sessions/"}
    )
    assert response.status_code == 302, response.content
    return response


# --- The record -------------------------------------------------------------------------


@pytest.mark.usefixtures("geo_db")
def test_signing_in_records_the_session_with_device_location_and_a_hashed_key(alice, password):
    client = browser(LONDON, FIREFOX_WINDOWS)
    assert sign_in(client, alice, password)["Location"] == "/dashboard/"

    record = TrackedSession.objects.get(user=alice)
    key = client.cookies["sessionid"].value
    assert record.session_key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in {record.session_key_hash, record.user_agent}
    assert record.ip == LONDON
    assert (record.browser, record.os, record.device_type) == (
        "Firefox 128",
        "Windows 10",
        "desktop",
    )
    assert (record.city, record.country, record.country_code) == ("London", "United Kingdom", "GB")
    assert record.latitude == pytest.approx(51.5142)
    assert record.method == "password"
    assert record.ended_at is None


def test_a_very_long_user_agent_is_stored_bounded_and_control_characters_are_removed(
    alice, password
):
    # A NUL or a line break in a header, or one over 8 KB, gets the 400 page before the
    # sign-in (panel/tests/test_header_hygiene.py); a TAB and a long value reach it.
    from panel.headers import MAX_STORED

    ua = CHROME_LINUX + "\t" + " x" * 3000
    client = browser("203.0.113.5", ua)
    sign_in(client, alice, password)
    record = TrackedSession.objects.get(user=alice)
    assert len(record.user_agent) == MAX_STORED
    assert record.user_agent.startswith(CHROME_LINUX + " ")
    assert "\t" not in record.user_agent
    assert record.browser == "Chrome 130"


@pytest.mark.usefixtures("geo_db")
def test_the_sessions_tab_lists_each_session_with_a_current_badge(alice, password):
    phone = browser(PARIS, SAFARI_IPHONE)
    sign_in(phone, alice, password)
    laptop = browser(LONDON, FIREFOX_WINDOWS)
    sign_in(laptop, alice, password)

    response = laptop.get("/settings/sessions/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Firefox 128 on Windows 10" in body and "Mobile Safari 17 on iOS 17.5" in body
    assert "London, United Kingdom" in body and "Paris, France" in body
    assert LONDON in body and PARIS in body
    assert body.count(">Current</span>") == 1
    # The current one comes first and has no Revoke button; the other one has.
    assert body.index("Firefox 128") < body.index("Mobile Safari")
    assert body.count(">Revoke</a>") == 1


def test_the_sessions_tab_is_a_settings_tab(alice_client):
    body = alice_client.get("/settings/security/").content.decode()
    assert 'href="/settings/sessions/"' in body and ">Sessions</a>" in body


# --- Activity without writes ------------------------------------------------------------


def test_a_signed_in_page_view_makes_no_database_write(
    settings, alice, password, django_assert_num_queries
):
    settings.TEAM_ACCESS_CACHE_SECONDS = 0  # the teams from the database on both legs
    client = browser()
    sign_in(client, alice, password)
    client.get("/dashboard/")  # the sign-in's own follow-up

    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/dashboard/").status_code == 200
    assert _writes(ctx) == []
    # The session with its tracked session and user (one query: panel.session_store)
    # and the user's teams (their security policy and the top bar): two reads, nothing
    # else.
    with django_assert_num_queries(2):
        client.get("/dashboard/")


def test_last_active_is_written_at_most_once_a_minute(alice, password, settings):
    client = browser()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, alice, password)
        signed_in_at = _record_of(client).last_active_at

        traveller.shift(timedelta(seconds=59))
        with CaptureQueriesContext(connection) as ctx:
            client.get("/dashboard/")
        assert _writes(ctx) == []
        assert _record_of(client).last_active_at == signed_in_at

        traveller.shift(timedelta(seconds=2))
        with CaptureQueriesContext(connection) as ctx:
            client.get("/dashboard/")
        # The tracked session's last-active, and (with the database cache of the SQLite
        # leg; Redis in the services leg and production) the refresh counter of the
        # session errors metric.
        writes = _writes(ctx)
        assert "security_trackedsession" in writes[0]
        if settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache"):
            assert len(writes) == 2 and "panel_cache" in writes[1]
        else:
            assert len(writes) == 1
        assert _record_of(client).last_active_at == signed_in_at + timedelta(seconds=61)


# --- Timeouts -------------------------------------------------------------------------


def test_an_idle_session_is_signed_out_with_a_message(alice, password, settings):
    client = browser()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, alice, password)
        record = _record_of(client)
        traveller.shift(timedelta(minutes=59))
        assert client.get("/dashboard/").status_code == 200

        traveller.shift(timedelta(minutes=60, seconds=1))
        response = client.get("/dashboard/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/login/")
    assert "You were signed out after 60 minutes without activity." in response.content.decode()
    record.refresh_from_db()
    assert record.end_reason == TrackedSession.EndReason.IDLE
    assert AuditEvent.objects.filter(action="session_timed_out", user=alice).exists()


def test_the_idle_limit_follows_the_setting(alice, password, settings):
    settings.SESSION_IDLE_TIMEOUT = 5 * 60
    client = browser()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, alice, password)
        traveller.shift(timedelta(minutes=5, seconds=1))
        response = client.get("/dashboard/")
    assert response.status_code == 302 and response["Location"].startswith("/auth/login/")


def test_an_active_session_still_ends_after_twelve_hours(alice, password):
    client = browser()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(client, alice, password)
        for _ in range(71):  # a click every 10 minutes for 11 h 50 min
            traveller.shift(timedelta(minutes=10))
            assert client.get("/dashboard/").status_code == 200
        traveller.shift(timedelta(minutes=10, seconds=1))
        response = client.get("/dashboard/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/login/")
    assert "maximum length of 12 hours" in response.content.decode()
    assert TrackedSession.objects.get(user=alice).end_reason == TrackedSession.EndReason.EXPIRED


# --- Revoking ---------------------------------------------------------------------------


def test_revoking_needs_a_recent_step_up(alice, password):
    other = browser("198.51.100.7", SAFARI_IPHONE)
    sign_in(other, alice, password)
    me = browser()
    # Signed in 20 minutes ago: the sign-in no longer counts as a step-up.
    with time_machine.travel(timezone.now() - timedelta(minutes=20)):
        sign_in(me, alice, password)
    target = _record_of(other)

    response = me.get(f"/settings/sessions/{target.pk}/revoke/")
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/sessions/confirm/?next=")

    refused = me.post("/settings/sessions/confirm/", {"password": "wrong password 123"})
    assert refused.status_code == 400
    assert "That password is not correct." in refused.content.decode()
    assert AuditEvent.objects.filter(action="stepup", outcome="failure", user=alice).exists()

    with time_machine.travel(timezone.now(), tick=False) as traveller:
        _step_up(me, password)
        page = me.get(f"/settings/sessions/{target.pk}/revoke/")
        assert page.status_code == 200
        traveller.shift(timedelta(minutes=16))
        assert me.get(f"/settings/sessions/{target.pk}/revoke/").status_code == 302


def test_a_sign_in_within_15_minutes_counts_as_the_step_up(alice, password):
    other = browser("198.51.100.7", SAFARI_IPHONE)
    sign_in(other, alice, password)
    me = browser()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        sign_in(me, alice, password)
        target = _record_of(other)
        assert me.get(f"/settings/sessions/{target.pk}/revoke/").status_code == 200
        traveller.shift(timedelta(minutes=16))
        response = me.get(f"/settings/sessions/{target.pk}/revoke/")
        assert response.status_code == 302
        assert response["Location"].startswith("/settings/sessions/confirm/?next=")


def test_the_step_up_rotates_the_session_key_and_keeps_the_session_tracked(alice, password):
    me = browser()
    sign_in(me, alice, password)
    record = _record_of(me)
    old_key = me.cookies["sessionid"].value
    _step_up(me, password)
    assert me.cookies["sessionid"].value != old_key
    assert _record_of(me).pk == record.pk
    assert me.get("/settings/sessions/").status_code == 200


def test_a_revoked_session_is_signed_out_on_its_next_request_with_a_message(alice, password):
    other = browser("198.51.100.7", SAFARI_IPHONE)
    sign_in(other, alice, password)
    me = browser("203.0.113.9", FIREFOX_WINDOWS)
    sign_in(me, alice, password)
    target = _record_of(other)
    _step_up(me, password)

    page = me.get(f"/settings/sessions/{target.pk}/revoke/").content.decode()
    assert "Mobile Safari 17 on iOS 17.5" in page and "198.51.100.7" in page
    assert "Confirm revoke" in page
    done = me.post(f"/settings/sessions/{target.pk}/revoke/")
    assert done.status_code == 302 and done["Location"] == "/settings/sessions/"

    response = other.get("/dashboard/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/login/")
    assert "Your session was signed out from another device." in response.content.decode()
    assert other.get("/dashboard/").status_code == 302
    target.refresh_from_db()
    assert target.end_reason == TrackedSession.EndReason.REVOKED
    event = AuditEvent.objects.get(action="session_revoked")
    assert event.user == alice and event.metadata["session"] == target.pk
    # The revoking browser is untouched.
    assert me.get("/dashboard/").status_code == 200


def test_the_tracked_row_read_with_the_session_counts_only_when_it_is_the_one_named(
    alice, password
):
    """The session's query brings the tracked row found by the key's hash
    (panel.session_store, read along); the session names its row by pk, and only that
    row decides. Here the hash has been moved to another open row of the same user while
    the named row was revoked: the browser is signed out all the same."""
    me = browser("203.0.113.9", FIREFOX_WINDOWS)
    sign_in(me, alice, password)
    named = _record_of(me)
    decoy = TrackedSession.objects.create(
        user=alice, session_key_hash="0" * 64, ip="203.0.113.9", user_agent="decoy"
    )
    key_hash = named.session_key_hash
    TrackedSession.objects.filter(pk=named.pk).update(session_key_hash="1" * 64)
    TrackedSession.objects.filter(pk=decoy.pk).update(session_key_hash=key_hash)
    assert me.get("/dashboard/").status_code == 200  # the named row, found by its pk
    tracked.end_session(named, reason=TrackedSession.EndReason.REVOKED)
    response = me.get("/dashboard/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/login/")
    assert "Your session was signed out from another device." in response.content.decode()


def test_the_session_query_brings_the_tracked_row_and_its_user(alice, password):
    from django.test.utils import CaptureQueriesContext

    from panel.session_store import SessionStore
    from security.sessions.middleware import ALONG

    me = browser("203.0.113.9", FIREFOX_WINDOWS)
    sign_in(me, alice, password)
    stored = _record_of(me)
    store = SessionStore(me.cookies["sessionid"].value)
    with CaptureQueriesContext(connection) as ctx:
        assert tracked.TRACK_KEY in store.load()
        record = store.along[ALONG]
        assert record.user.username == "alice"
    assert len(ctx.captured_queries) == 1
    assert record == stored and record.last_active_at == stored.last_active_at
    assert SessionStore("x" * 32).along == {}  # nothing read for a key with no row


def test_sign_out_all_other_sessions_keeps_this_one(alice, password):
    others = [browser(f"198.51.100.{n}") for n in (1, 2, 3)]
    for client in others:
        sign_in(client, alice, password)
    me = browser()
    sign_in(me, alice, password)
    _step_up(me, password)

    assert (
        "3 other sessions will be signed out"
        in me.get("/settings/sessions/revoke-others/").content.decode()
    )
    me.post("/settings/sessions/revoke-others/")

    assert all(c.get("/dashboard/").status_code == 302 for c in others)
    assert me.get("/dashboard/").status_code == 200
    assert tracked.active_for(alice).count() == 1
    assert AuditEvent.objects.get(action="sessions_revoked_all").metadata["count"] == 3


def test_nobody_can_revoke_a_session_of_another_user(alice, bob, password):
    bobs = browser()
    sign_in(bobs, bob, password)
    me = browser()
    sign_in(me, alice, password)
    _step_up(me, password)
    target = _record_of(bobs)
    assert me.get(f"/settings/sessions/{target.pk}/revoke/").status_code == 404
    assert me.post(f"/settings/sessions/{target.pk}/revoke/").status_code == 404
    assert bobs.get("/dashboard/").status_code == 200


def test_the_current_session_is_not_revoked_from_the_list(alice, password):
    me = browser()
    sign_in(me, alice, password)
    _step_up(me, password)
    me.post(f"/settings/sessions/{_record_of(me).pk}/revoke/")
    assert me.get("/dashboard/").status_code == 200


def test_a_get_never_revokes(alice, password):
    other = browser("198.51.100.7")
    sign_in(other, alice, password)
    me = browser()
    sign_in(me, alice, password)
    _step_up(me, password)
    me.get(f"/settings/sessions/{_record_of(other).pk}/revoke/")
    assert other.get("/dashboard/").status_code == 200


# --- Sign-out, password change, disabled accounts, single session ------------------------


def test_signing_out_ends_the_record(alice, password):
    me = browser()
    sign_in(me, alice, password)
    record = _record_of(me)
    me.post("/auth/logout/")
    record.refresh_from_db()
    assert record.end_reason == TrackedSession.EndReason.SIGNOUT


def test_a_password_change_ends_the_other_sessions_and_forgets_the_other_devices(alice, password):
    other = browser("198.51.100.7")
    sign_in(other, alice, password)
    me = browser()
    sign_in(me, alice, password)
    assert TrustedDevice.objects.filter(user=alice).exists()

    response = me.post(
        "/settings/security/password/",
        {
            "old_password": password,
            "new_password1": "a different long passphrase 77",
            "new_password2": "a different long passphrase 77",
        },
    )
    assert response.status_code == 302, response.content
    assert me.get("/dashboard/").status_code == 200

    ended = _record_of(other)
    assert ended.end_reason == TrackedSession.EndReason.PASSWORD_CHANGE
    assert _record_of(me).ended_at is None
    # The browser that made the change stays trusted; the other one is forgotten.
    assert list(TrustedDevice.objects.filter(user=alice).values_list("ip", flat=True)) == [
        "203.0.113.9"
    ]

    response = other.get("/dashboard/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/login/")
    assert "Your password was changed, so this session was signed out." in response.content.decode()


def test_end_user_sessions_keeps_the_named_session(alice, password):
    other = browser("198.51.100.7")
    sign_in(other, alice, password)
    me = browser()
    sign_in(me, alice, password)
    count = tracked.end_user_sessions(
        alice, except_session_key=me.cookies["sessionid"].value, reason="password_change"
    )
    assert count == 1
    assert me.get("/dashboard/").status_code == 200
    assert other.get("/dashboard/").status_code == 302


def test_a_disabled_account_loses_every_session(alice, password):
    clients = [browser("198.51.100.1"), browser("198.51.100.2")]
    for client in clients:
        sign_in(client, alice, password)
    alice.is_active = False
    alice.save()
    assert not tracked.active_for(alice).exists()
    assert set(TrackedSession.objects.values_list("end_reason", flat=True)) == {"disabled"}
    for client in clients:
        assert client.get("/dashboard/").status_code == 302


def test_single_session_mode_replaces_the_older_session_and_tells_it_why(alice, password, settings):
    settings.SINGLE_SESSION = True
    first = browser("198.51.100.1")
    sign_in(first, alice, password)
    older = _record_of(first)
    second = browser("198.51.100.2")
    sign_in(second, alice, password)

    response = first.get("/dashboard/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/auth/login/")
    assert "signed in on another device" in response.content.decode()
    assert second.get("/dashboard/").status_code == 200
    older.refresh_from_db()
    assert older.end_reason == TrackedSession.EndReason.REPLACED


def test_without_single_session_mode_sessions_live_side_by_side(alice, password):
    first = browser("198.51.100.1")
    sign_in(first, alice, password)
    second = browser("198.51.100.2")
    sign_in(second, alice, password)
    assert first.get("/dashboard/").status_code == 200
    assert second.get("/dashboard/").status_code == 200


def test_a_session_started_outside_the_sign_in_page_is_tracked(alice_client, alice):
    assert alice_client.get("/dashboard/").status_code == 200
    record = TrackedSession.objects.get(user=alice)
    assert record.method == ""
    assert record.ended_at is None


def test_a_user_with_two_factor_may_step_up_with_an_authenticator_code(alice, password):
    from security.tests.helpers import enroll, submit_code

    enrolled = enroll(alice)
    me = browser()
    assert sign_in(me, alice, password)["Location"] == "/auth/2fa/"
    assert submit_code(me, enrolled.code())["Location"] == "/dashboard/"

    page = me.get("/settings/sessions/confirm/?factor=code").content.decode()
    assert "Authentication code" in page
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        wrong = "000000" if enrolled.code() != "000000" else "111111"
        refused = me.post("/settings/sessions/confirm/", {"factor": "code", "code": wrong})
        assert refused.status_code == 400 and "That code is not right." in refused.content.decode()
        traveller.shift(timedelta(seconds=31))  # past django-otp's failure throttle
        response = me.post(
            "/settings/sessions/confirm/", {"factor": "code", "code": enrolled.code()}
        )
        assert response.status_code == 302
        assert stepup_is_recent(response.wsgi_request)
    assert AuditEvent.objects.filter(
        action="stepup", outcome="success", metadata__factor="totp"
    ).exists()


def test_a_user_without_two_factor_is_not_offered_a_code(alice, password):
    me = browser()
    sign_in(me, alice, password)
    page = me.get("/settings/sessions/confirm/?factor=code").content.decode()
    assert "Authentication code" not in page and 'name="password"' in page
    assert (
        me.post("/settings/sessions/confirm/", {"factor": "code", "code": "123456"}).status_code
        == 400
    )


def test_the_sessions_tab_leaves_out_sessions_past_their_idle_limit(alice, password):
    stale = browser("198.51.100.7", SAFARI_IPHONE)
    with time_machine.travel(timezone.now() - timedelta(minutes=61), tick=False):
        sign_in(stale, alice, password)
    me = browser()
    sign_in(me, alice, password)
    body = me.get("/settings/sessions/").content.decode()
    assert "Mobile Safari" not in body
    assert "Sign out all other sessions" not in body


def test_a_password_reset_ends_every_session(alice, password):
    from accounts.services import reset_password

    clients = [browser("198.51.100.1"), browser("198.51.100.2")]
    for client in clients:
        sign_in(client, alice, password)
    reset_password(user=alice, new_password="a brand new long passphrase 5")
    assert set(TrackedSession.objects.values_list("end_reason", flat=True)) == {"password_change"}
    assert not TrustedDevice.objects.filter(user=alice).exists()
    for client in clients:
        assert client.get("/dashboard/").status_code == 302


@pytest.mark.usefixtures("geo_db")
def test_an_ipv4_mapped_client_address_is_recorded_and_located_as_ipv4(alice, password):
    client = browser(f"::ffff:{LONDON}")
    sign_in(client, alice, password)
    record = TrackedSession.objects.get(user=alice)
    assert (record.ip, record.city) == (LONDON, "London")


def test_a_tracked_request_holds_its_user_directly_with_its_2fa_state(alice, password):
    """After the session check the request's user is the User itself, not the lazy
    wrappers of the authentication and OTP middlewares (every later read went through
    both), and django-otp's answer is on it."""
    from accounts.models import User

    me = browser("203.0.113.9", FIREFOX_WINDOWS)
    sign_in(me, alice, password)
    request = me.get("/dashboard/").wsgi_request
    assert type(request.user) is User and request.user.pk == alice.pk
    assert request.user.is_verified() is False
