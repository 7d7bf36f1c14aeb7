"""New-device approval: the device cookie, the emailed code, trusted devices, and the
"New sign-in" email with its "This wasn't me" link."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import signing
from django.utils import timezone

from audit.models import AuditEvent
from security.devices import services as devices
from security.models import NewDeviceChallenge, TrackedSession, TrustedDevice
from security.tests.helpers import (
    FIREFOX_WINDOWS,
    SAFARI_IPHONE,
    browser,
    code_from,
    link_from,
    path_of,
    sign_in,
    trusted_browser,
)

pytestmark = pytest.mark.usefixtures("emails_sent_at_once")

DEVICE_URL = "/auth/device/"
RESEND_URL = "/auth/device/resend/"


@pytest.fixture(autouse=True)
def _no_holds(settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.NEW_DEVICE_APPROVAL = True


@pytest.fixture
def alice_laptop(alice, password):
    """Alice's first browser: trusted by her first sign-in."""
    return trusted_browser(alice, password)


def _new_device_sign_in(user, password, *, ip="198.51.100.20", ua=SAFARI_IPHONE):
    client = browser(ip, ua)
    response = sign_in(client, user, password)
    assert response.status_code == 302 and response["Location"] == DEVICE_URL, response
    return client


def _code_emails(mailoutbox):
    return [m for m in mailoutbox if "enter this code" in m.body]


# --- First sign-in and known browsers ---------------------------------------------------


def test_the_first_sign_in_ever_trusts_the_browser_without_a_code(alice, password, mailoutbox):
    client = browser()
    response = sign_in(client, alice, password)
    assert response["Location"] == "/dashboard/"
    device = TrustedDevice.objects.get(user=alice)
    assert device.name == "Chrome 130 on Linux"
    assert mailoutbox == []  # neither a code nor a "new sign-in" alert
    assert AuditEvent.objects.filter(action="device_trusted", metadata__via="first_signin").exists()


def test_the_device_cookie_is_signed_httponly_lax_and_long_lived(alice, password):
    client = browser()
    response = sign_in(client, alice, password)
    cookie = response.cookies[devices.cookie_name()]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600
    token = signing.loads(cookie.value, salt=devices.COOKIE_SALT)
    # Only the token's hash is stored.
    assert not TrustedDevice.objects.filter(token_hash=token).exists()
    assert TrustedDevice.objects.filter(token_hash=devices.token_hash(token)).exists()


def test_a_trusted_browser_signs_in_again_without_a_code(alice, password, alice_laptop, mailoutbox):
    alice_laptop.post("/auth/logout/")
    assert sign_in(alice_laptop, alice, password)["Location"] == "/dashboard/"
    assert mailoutbox == []


def test_a_tampered_device_cookie_is_not_recognised(alice, password, alice_laptop):
    alice_laptop.post("/auth/logout/")
    name = devices.cookie_name()
    alice_laptop.cookies[name] = alice_laptop.cookies[name].value[:-2] + "xx"
    assert sign_in(alice_laptop, alice, password)["Location"] == DEVICE_URL


def test_a_browser_trusted_by_one_user_is_new_for_another(alice, bob, password, alice_laptop):
    sign_in(browser(), bob, password)  # bob's first browser elsewhere
    alice_laptop.post("/auth/logout/")
    assert sign_in(alice_laptop, bob, password)["Location"] == DEVICE_URL


# --- The emailed code -------------------------------------------------------------------


def test_a_new_browser_must_enter_the_emailed_code(alice, password, alice_laptop, mailoutbox):
    phone = _new_device_sign_in(alice, password)
    # Half signed in: nothing but the code page is reachable.
    assert phone.get("/dashboard/")["Location"] == DEVICE_URL
    page = phone.get(DEVICE_URL).content.decode()
    assert "a••••@example.com" in page and "Verification code" in page

    [email] = _code_emails(mailoutbox)
    assert email.to == ["alice@example.com"]
    assert "Mobile Safari 17 on iOS 17.5" in email.body and "198.51.100.20" in email.body
    code = code_from(mailoutbox)
    assert code not in email.subject
    assert not NewDeviceChallenge.objects.filter(code_hash__contains=code).exists()

    response = phone.post(DEVICE_URL, {"code": code})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert phone.get("/dashboard/").status_code == 200
    assert TrustedDevice.objects.filter(user=alice).count() == 2
    assert AuditEvent.objects.filter(action="new_device_code_sent", user=alice).count() == 1
    assert AuditEvent.objects.filter(action="device_trusted", metadata__via="emailed_code").exists()

    # The code worked once; this browser is now known.
    phone.post("/auth/logout/")
    assert sign_in(phone, alice, password)["Location"] == "/dashboard/"


def test_a_sign_in_from_a_new_device_sends_a_new_sign_in_email(
    alice, password, alice_laptop, mailoutbox
):
    phone = _new_device_sign_in(alice, password)
    phone.post(DEVICE_URL, {"code": code_from(mailoutbox)})
    alert = [m for m in mailoutbox if m.subject.startswith("New sign-in")]
    assert len(alert) == 1
    assert "Mobile Safari 17 on iOS 17.5" in alert[0].body
    assert "198.51.100.20" in alert[0].body
    assert "This wasn't me" in alert[0].alternatives[0][0]


def test_a_wrong_code_is_refused_and_counted_in_the_lockout(
    alice, password, alice_laptop, mailoutbox
):
    phone = _new_device_sign_in(alice, password)
    response = phone.post(
        DEVICE_URL, {"code": "000000" if code_from(mailoutbox) != "000000" else "111111"}
    )
    assert response.status_code == 400
    assert "That code is not right." in response.content.decode()
    attempt = AccessAttempt.objects.get(ip_address="198.51.100.20", username="alice")
    assert attempt.failures_since_start == 1
    event = AuditEvent.objects.get(action="new_device_code_failed")
    assert event.user == alice and event.outcome == "failure"
    assert code_from(mailoutbox) not in str(event.metadata)


def test_wrong_codes_after_wrong_passwords_lock_the_pair(alice, password, alice_laptop, mailoutbox):
    phone = browser("198.51.100.20", SAFARI_IPHONE)
    for _ in range(3):
        sign_in(phone, alice, "not the password at all")
    assert sign_in(phone, alice, password)["Location"] == DEVICE_URL
    right = code_from(mailoutbox)
    wrong = "123456" if right != "123456" else "654321"
    assert phone.post(DEVICE_URL, {"code": wrong}).status_code == 400
    assert phone.post(DEVICE_URL, {"code": wrong}).status_code == 400
    locked = phone.post(DEVICE_URL, {"code": wrong})  # the sixth failure of this pair
    assert locked.status_code == 429
    # The lockout destroyed the half-finished sign-in: even the right code is useless now.
    after = phone.post(DEVICE_URL, {"code": right})
    assert after.status_code in (302, 429)
    assert phone.get("/dashboard/").status_code == 302
    assert not TrustedDevice.objects.filter(user=alice, ip="198.51.100.20").exists()


def test_an_expired_code_is_refused(alice, password, alice_laptop, mailoutbox):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        phone = _new_device_sign_in(alice, password)
        code = code_from(mailoutbox)
        challenge = NewDeviceChallenge.objects.get(user=alice)
        assert challenge.code_expires_at == timezone.now() + timedelta(minutes=10)

        traveller.shift(timedelta(minutes=10, seconds=1))
        # The code has expired (and the half-finished sign-in, 5 minutes, with it).
        assert (
            devices.verify_code(request=_FakeRequest(), challenge=challenge, code=code) == "expired"
        )
        response = phone.post(DEVICE_URL, {"code": code}, follow=True)
    assert response.redirect_chain[-1][0] == "/auth/login/"
    assert "Your sign-in expired" in response.content.decode()
    assert phone.get("/dashboard/").status_code == 302


def test_the_half_finished_sign_in_expires_after_five_minutes(
    alice, password, alice_laptop, mailoutbox
):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        phone = _new_device_sign_in(alice, password)
        code = code_from(mailoutbox)
        traveller.shift(timedelta(minutes=5, seconds=1))
        response = phone.post(DEVICE_URL, {"code": code})
    assert response["Location"] == "/auth/login/"
    assert not TrustedDevice.objects.filter(user=alice, ip="198.51.100.20").exists()


class _FakeRequest:
    """Enough of a request for the audit trail in a direct service call."""

    META = {"REMOTE_ADDR": "198.51.100.20"}
    user = None


def test_a_code_only_works_for_the_sign_in_it_was_sent_for(
    alice, password, alice_laptop, mailoutbox
):
    first = _new_device_sign_in(alice, password, ip="198.51.100.21")
    first_code = code_from(mailoutbox)
    second = _new_device_sign_in(alice, password, ip="198.51.100.22", ua=FIREFOX_WINDOWS)
    second_code = code_from(mailoutbox)
    if first_code == second_code:  # one in a million: nothing to prove
        return
    assert second.post(DEVICE_URL, {"code": first_code}).status_code == 400
    assert second.post(DEVICE_URL, {"code": second_code})["Location"] == "/dashboard/"
    assert first.post(DEVICE_URL, {"code": first_code})["Location"] == "/dashboard/"


def test_a_code_cannot_be_used_twice(alice, password, alice_laptop, mailoutbox):
    phone = _new_device_sign_in(alice, password)
    code = code_from(mailoutbox)
    challenge = NewDeviceChallenge.objects.get(user=alice)
    phone.post(DEVICE_URL, {"code": code})
    assert devices.verify_code(request=_FakeRequest(), challenge=challenge, code=code) == "expired"


def test_resending_sends_a_new_code_and_keeps_the_failure_count(
    alice, password, alice_laptop, mailoutbox
):
    phone = _new_device_sign_in(alice, password)
    old = code_from(mailoutbox)
    wrong = "000001" if old != "000001" else "000002"
    phone.post(DEVICE_URL, {"code": wrong})

    response = phone.post(RESEND_URL, follow=True)
    assert "We sent a new code." in response.content.decode()
    assert len(_code_emails(mailoutbox)) == 2
    new = code_from(mailoutbox)
    challenge = NewDeviceChallenge.objects.get(user=alice)
    assert challenge.attempts == 1 and challenge.sends == 2
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 1

    if new != old:
        assert phone.post(DEVICE_URL, {"code": old}).status_code == 400
    assert phone.post(DEVICE_URL, {"code": new})["Location"] == "/dashboard/"


def test_resending_is_rate_limited(alice, password, alice_laptop, mailoutbox):
    phone = _new_device_sign_in(alice, password)
    for _ in range(3):
        phone.post(RESEND_URL)
    response = phone.post(RESEND_URL, follow=True)
    assert "Please wait a few minutes" in response.content.decode()
    assert len(_code_emails(mailoutbox)) == 4  # the first code and three resends


def test_too_many_wrong_codes_end_the_sign_in(alice, password, alice_laptop, mailoutbox, settings):
    settings.AXES_FAILURE_LIMIT = 50  # isolate the per-code limit from the lockout
    phone = _new_device_sign_in(alice, password)
    right = code_from(mailoutbox)
    wrong = "999999" if right != "999999" else "888888"
    for _ in range(devices.MAX_CODE_ATTEMPTS - 1):
        assert phone.post(DEVICE_URL, {"code": wrong}).status_code == 400
    response = phone.post(DEVICE_URL, {"code": wrong}, follow=True)
    assert "Too many wrong codes" in response.content.decode()
    assert phone.post(DEVICE_URL, {"code": right})["Location"] == "/auth/login/"


def test_with_approval_off_a_new_browser_needs_no_code_but_triggers_the_alert(
    alice, password, alice_laptop, mailoutbox, settings
):
    settings.NEW_DEVICE_APPROVAL = False
    phone = browser("198.51.100.20", SAFARI_IPHONE)
    assert sign_in(phone, alice, password)["Location"] == "/dashboard/"
    assert _code_emails(mailoutbox) == []
    assert [m.subject for m in mailoutbox] == ["New sign-in to your Panel account"]


def test_a_user_with_two_factor_needs_both_the_code_of_the_app_and_the_emailed_code(
    alice, password, alice_laptop, mailoutbox
):
    from security.tests.helpers import enroll, submit_code

    enrolled = enroll(alice)
    phone = browser("198.51.100.20", SAFARI_IPHONE)
    assert sign_in(phone, alice, password)["Location"] == "/auth/2fa/"
    assert submit_code(phone, enrolled.code())["Location"] == DEVICE_URL
    assert phone.post(DEVICE_URL, {"code": code_from(mailoutbox)})["Location"] == "/dashboard/"
    response = phone.get("/dashboard/")
    assert response.status_code == 200
    assert response.wsgi_request.user.is_verified()


# --- Trusted devices on the Security tab -------------------------------------------------


def test_the_security_tab_lists_trusted_devices_and_forgets_one(alice, password, alice_laptop):
    page = alice_laptop.get("/settings/security/").content.decode()
    assert "Trusted devices" in page and "Chrome 130 on Linux" in page
    device = TrustedDevice.objects.get(user=alice)
    # The row's form posts to this device's own URL (reversed once for the list).
    assert f'action="/settings/devices/{device.pk}/forget/"' in page
    response = alice_laptop.post(f"/settings/devices/{device.pk}/forget/", follow=True)
    assert "will need an emailed code" in response.content.decode()
    assert not TrustedDevice.objects.filter(user=alice).exists()
    assert AuditEvent.objects.filter(action="device_forgotten", user=alice).exists()

    alice_laptop.post("/auth/logout/")
    assert sign_in(alice_laptop, alice, password)["Location"] == DEVICE_URL


def test_each_row_forgets_its_device_with_the_pages_csrf_token_and_escapes_its_name(
    alice, password, alice_laptop
):
    """The rows are built in Python (security_sessions.trusted_device_rows): the form
    carries the CSRF token a strict client needs, and a name is text, not markup."""
    import re

    from django.test import Client

    device = TrustedDevice.objects.get(user=alice)
    device.name = '<img src=x onerror="alert(1)">'
    device.save()
    strict = Client(enforce_csrf_checks=True, REMOTE_ADDR="127.0.0.1")
    strict.cookies = alice_laptop.cookies
    page = strict.get("/settings/security/").content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page
    row = re.search(
        r'<form method="post" action="(/settings/devices/\d+/forget/)">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]+)">',
        page,
    )
    assert row and row.group(1) == f"/settings/devices/{device.pk}/forget/"
    assert strict.post(row.group(1)).status_code == 403  # no token: refused
    response = strict.post(row.group(1), {"csrfmiddlewaretoken": row.group(2)})
    assert response.status_code == 302
    assert not TrustedDevice.objects.filter(pk=device.pk).exists()


def test_nobody_forgets_another_users_device(alice, bob, password, alice_laptop):
    bobs = trusted_browser(bob, password, ip="198.51.100.30")
    device = TrustedDevice.objects.get(user=bob)
    assert alice_laptop.post(f"/settings/devices/{device.pk}/forget/").status_code == 404
    assert TrustedDevice.objects.filter(pk=device.pk).exists()
    assert bobs.get("/dashboard/").status_code == 200


def test_the_security_tab_shows_recent_sign_in_activity(alice, password, alice_laptop):
    sign_in(browser("198.51.100.40"), alice, "a wrong password here")
    page = alice_laptop.get("/settings/security/").content.decode()
    assert "Recent sign-in activity" in page
    assert "Failed sign-in" in page and "198.51.100.40" in page
    assert "Signed in" in page and "Chrome 130 on Linux" in page


# --- "This wasn't me" ---------------------------------------------------------------------


def test_this_wasnt_me_secures_the_account(alice, password, alice_laptop, mailoutbox):
    phone = _new_device_sign_in(alice, password)
    phone.post(DEVICE_URL, {"code": code_from(mailoutbox)})
    url = path_of(link_from(mailoutbox, "secure your account now"))

    confirm = browser("192.0.2.50").get(url)
    assert confirm.status_code == 200
    assert "Mobile Safari 17 on iOS 17.5" in confirm.content.decode()
    assert alice_laptop.get("/dashboard/").status_code == 200  # a GET changes nothing

    done = browser("192.0.2.50").post(url)
    assert "Your account is secured" in done.content.decode()
    alice.refresh_from_db()
    assert not alice.has_usable_password()
    assert not TrackedSession.objects.filter(user=alice, ended_at__isnull=True).exists()
    assert not TrustedDevice.objects.filter(user=alice).exists()
    assert phone.get("/dashboard/").status_code == 302
    assert alice_laptop.get("/dashboard/").status_code == 302
    assert any(
        "/auth/password/reset/" in m.body for m in mailoutbox if "reset" in m.subject.lower()
    )
    assert AuditEvent.objects.filter(
        action="suspicious_signin_denied", user=alice, metadata__via="new_signin_email"
    ).exists()
    # Single use.
    assert browser("192.0.2.50").post(url).status_code == 400


def test_a_forged_not_me_link_is_refused(alice_laptop):
    response = browser().get("/auth/not-me/forged-token/")
    assert response.status_code == 400
    assert "not valid any more" in response.content.decode()


# --- The code is bound to the browser it was issued for ------------------------------------


def _copy_session(source, target) -> None:
    from django.conf import settings as django_settings

    name = django_settings.SESSION_COOKIE_NAME
    target.cookies[name] = source.cookies[name].value


def test_a_code_issued_for_browser_a_does_not_approve_browser_b_with_a_copy_of_the_session(
    alice, bob, password, alice_laptop, mailoutbox
):
    phone = _new_device_sign_in(alice, password)
    code = code_from(mailoutbox)
    # Browser B has a device cookie of its own (bob trusted it) and a copy of A's session.
    other = trusted_browser(bob, password, ip="198.51.100.20", ua=SAFARI_IPHONE)
    other.post("/auth/logout/")
    _copy_session(phone, other)

    response = other.post(DEVICE_URL, {"code": code})
    assert response.status_code == 400
    assert "That code is not right." in response.content.decode()
    assert other.get("/dashboard/").status_code == 302
    assert TrustedDevice.objects.filter(user=alice).count() == 1  # only the laptop
    event = AuditEvent.objects.get(action="new_device_code_failed")
    assert event.metadata["other_device"] is True

    # The browser the code was sent for still finishes with it.
    assert phone.post(DEVICE_URL, {"code": code})["Location"] == "/dashboard/"
    assert TrustedDevice.objects.filter(user=alice).count() == 2
    bobs_token = signing.loads(other.cookies[devices.cookie_name()].value, salt=devices.COOKIE_SALT)
    assert devices.trusted_device(alice, bobs_token) is None


def test_a_copy_of_the_session_without_any_device_cookie_cannot_use_the_code(
    alice, password, alice_laptop, mailoutbox
):
    phone = _new_device_sign_in(alice, password)
    code = code_from(mailoutbox)
    bare = browser("198.51.100.20", SAFARI_IPHONE)
    _copy_session(phone, bare)
    assert devices.cookie_name() not in bare.cookies
    assert bare.post(DEVICE_URL, {"code": code}).status_code == 400
    assert bare.get("/dashboard/").status_code == 302
    assert phone.post(DEVICE_URL, {"code": code})["Location"] == "/dashboard/"


def test_the_stored_code_hash_covers_the_device_token(alice, password, alice_laptop, mailoutbox):
    _new_device_sign_in(alice, password)
    code = code_from(mailoutbox)
    challenge = NewDeviceChallenge.objects.get(user=alice)
    assert challenge.code_hash == devices._code_hash(challenge, code)
    challenge.device_token_hash = devices.token_hash("another-browser-token-0123456789")
    assert challenge.code_hash != devices._code_hash(challenge, code)


@pytest.mark.parametrize(
    "when",
    [
        "2026-01-01T00:00:00+00:00",
        "2026-02-28T23:59:59+00:00",
        "2024-02-29T12:00:00+00:00",
        "2026-09-09T09:09:09+00:00",
        "2026-12-31T23:30:00-05:00",  # another zone: shown in the current one (UTC)
    ],
)
def test_the_rows_short_date_is_what_the_date_filter_renders(when):
    from datetime import datetime

    from django.template import Context, Template

    from security.templatetags.security_sessions import short_date

    value = datetime.fromisoformat(when)
    expected = Template('{{ value|date:"j M Y" }}').render(Context({"value": value}))
    assert short_date(value) == expected
