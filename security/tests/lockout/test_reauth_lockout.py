"""Wrong codes (and passwords) typed on the signed-in settings pages count on the same
(IP, username) lockout counter as failed sign-ins. A lockout refuses further attempts
and new sign-ins from that address, but never signs the existing session out."""

from __future__ import annotations

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client

from audit.models import AuditEvent
from security.models import BackupCodeSet, EncryptedTOTPDevice
from security.tests.helpers import enroll, sign_in_password

pytestmark = pytest.mark.django_db

T0 = 1_800_000_000
ENABLE = "/settings/security/2fa/enable/"
SETUP = "/settings/security/2fa/setup/"
REGENERATE = "/settings/security/2fa/backup-codes/"
DISABLE = "/settings/security/2fa/disable/"
STEPUP = "/settings/sessions/confirm/"
IP = "203.0.113.77"


@pytest.fixture(autouse=True)
def _no_holds(settings):
    # Many failures then a success is a "failure burst" hold; these tests are about counters.
    settings.SUSPICIOUS_SIGNIN_CHECKS = False


@pytest.fixture(autouse=True)
def clock():
    """Time stands still at T0 (from before the session starts): throttles and locks
    end only when a test moves the clock."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def enrolled(alice):
    return enroll(alice)


@pytest.fixture
def signed_in(enrolled):
    client = Client(REMOTE_ADDR=IP)
    client.force_login(enrolled.user)
    return client


def wrong_code(enrolled) -> str:
    valid = {enrolled.code(T0 + step * 30) for step in (-1, 0, 1)}
    return next(c for c in ("918273", "564738", "102938") if c not in valid)


def still_signed_in(client, user) -> bool:
    response = client.get("/dashboard/")
    return response.status_code == 200 and response.wsgi_request.user == user


def fresh_sign_in(user, password, ip=IP):
    return sign_in_password(Client(REMOTE_ADDR=ip), user.username, password)


def test_six_wrong_codes_on_the_disable_page_lock_the_pair_but_keep_the_session(
    signed_in, enrolled, password
):
    wrong = wrong_code(enrolled)
    for _ in range(5):
        assert signed_in.post(DISABLE, {"code": wrong}).status_code == 400
    locked = signed_in.post(DISABLE, {"code": wrong})
    assert locked.status_code == 429
    assert locked["Retry-After"] == "60"
    assert "Too many failed attempts" in locked.content.decode()
    assert "You are still signed in" in locked.content.decode()

    # The right code is not even checked while the pair is locked.
    again = signed_in.post(DISABLE, {"code": enrolled.code()})
    assert again.status_code == 429
    assert EncryptedTOTPDevice.objects.filter(user=enrolled.user, confirmed=True).exists()
    assert BackupCodeSet.objects.filter(user=enrolled.user).exists()

    # The session is not signed out ...
    assert still_signed_in(signed_in, enrolled.user)
    # ... but a new sign-in from that address is refused, even with the password.
    assert fresh_sign_in(enrolled.user, password).status_code == 429
    # Another address is not affected.
    assert fresh_sign_in(enrolled.user, password, ip="203.0.113.78").status_code == 302

    failures = AuditEvent.objects.filter(action="reauth_failed", user=enrolled.user)
    assert failures.count() == 6
    assert set(failures.values_list("metadata__page", flat=True)) == {"2fa_disable"}
    assert wrong not in str(list(failures.values_list("metadata", flat=True)))
    assert AuditEvent.objects.filter(action="lockout", user=enrolled.user).count() == 1


def test_the_disable_page_works_again_once_the_lock_ends(signed_in, enrolled, clock):
    wrong = wrong_code(enrolled)
    for _ in range(6):
        signed_in.post(DISABLE, {"code": wrong})
    clock.shift(61)
    # django-otp's own back-off (1 s, 2 s, ... after each failure) is over by now too.
    response = signed_in.post(DISABLE, {"code": enrolled.code(T0 + 61)})
    assert response.status_code == 302
    assert not EncryptedTOTPDevice.objects.filter(user=enrolled.user).exists()


def test_wrong_backup_codes_on_the_disable_page_count_too(signed_in, enrolled):
    for n in range(5):
        assert signed_in.post(DISABLE, {"code": f"abcd-efgh-jkmn-pq{n:02d}"}).status_code == 400
    assert signed_in.post(DISABLE, {"code": "abcd-efgh-jkmn-pqzz"}).status_code == 429
    assert AuditEvent.objects.filter(
        action="reauth_failed", metadata__factor="backup_code"
    ).exists()
    assert EncryptedTOTPDevice.objects.filter(user=enrolled.user, confirmed=True).exists()


def test_wrong_codes_on_the_settings_pages_and_at_sign_in_share_one_counter(
    signed_in, enrolled, password
):
    wrong = wrong_code(enrolled)
    for _ in range(3):
        sign_in_password(Client(REMOTE_ADDR=IP), enrolled.user.username, "not the password")
    signed_in.post(REGENERATE, {"code": wrong})
    signed_in.post(DISABLE, {"code": wrong})
    assert signed_in.post(REGENERATE, {"code": wrong}).status_code == 429
    assert AccessAttempt.objects.filter(ip_address=IP, username="alice").count() == 0
    assert fresh_sign_in(enrolled.user, password).status_code == 429
    assert still_signed_in(signed_in, enrolled.user)


def test_six_wrong_codes_on_the_regenerate_page_lock_and_the_old_codes_stay(signed_in, enrolled):
    wrong = wrong_code(enrolled)
    for _ in range(5):
        assert signed_in.post(REGENERATE, {"code": wrong}).status_code == 400
    assert signed_in.post(REGENERATE, {"code": wrong}).status_code == 429
    assert signed_in.post(REGENERATE, {"code": enrolled.code()}).status_code == 429
    codes = BackupCodeSet.objects.get(user=enrolled.user)
    assert codes.remaining() == 10
    assert AuditEvent.objects.filter(action="backup_codes_regenerated").count() == 0


def test_six_wrong_codes_when_confirming_setup_lock_and_2fa_stays_off(alice, password):
    client = Client(REMOTE_ADDR=IP)
    client.force_login(alice)
    assert client.post(ENABLE, {"password": password}).status_code == 302
    for _ in range(5):
        assert client.post(SETUP, {"code": "000000"}).status_code == 400
    response = client.post(SETUP, {"code": "000000"})
    assert response.status_code == 429
    assert not EncryptedTOTPDevice.objects.filter(user=alice, confirmed=True).exists()
    assert (
        AuditEvent.objects.filter(action="reauth_failed", metadata__page="2fa_setup").count() == 6
    )


def test_wrong_passwords_on_the_enable_page_count_and_lock(alice, password):
    client = Client(REMOTE_ADDR=IP)
    client.force_login(alice)
    for _ in range(5):
        assert client.post(ENABLE, {"password": "not my password"}).status_code == 400
    assert client.post(ENABLE, {"password": "not my password"}).status_code == 429
    # The right password is not checked while locked: no pending secret is created.
    assert client.post(ENABLE, {"password": password}).status_code == 429
    assert still_signed_in(client, alice)
    assert not EncryptedTOTPDevice.objects.filter(user=alice).exists()
    assert (
        AuditEvent.objects.filter(action="reauth_failed", metadata__factor="password").count() == 6
    )


def test_six_wrong_step_up_codes_lock_and_a_locked_pair_cannot_step_up(
    signed_in, enrolled, password
):
    wrong = wrong_code(enrolled)
    for _ in range(5):
        response = signed_in.post(STEPUP, {"factor": "code", "code": wrong})
        assert response.status_code == 400
    locked = signed_in.post(STEPUP, {"factor": "code", "code": wrong})
    assert locked.status_code == 429 and locked["Retry-After"] == "60"
    # Neither the right code nor the password is checked while the pair is locked.
    assert signed_in.post(STEPUP, {"factor": "code", "code": enrolled.code()}).status_code == 429
    assert signed_in.post(STEPUP, {"password": password}).status_code == 429
    assert "_stepup_at" not in signed_in.session
    assert still_signed_in(signed_in, enrolled.user)
    assert fresh_sign_in(enrolled.user, password).status_code == 429


def test_a_page_view_while_locked_still_shows_the_form(signed_in, enrolled):
    wrong = wrong_code(enrolled)
    for _ in range(6):
        signed_in.post(DISABLE, {"code": wrong})
    page = signed_in.get(DISABLE)
    assert page.status_code == 200
    assert "Authentication code or backup code" in page.content.decode()
