"""Suspicious sign-ins: new country, impossible travel, failure bursts; hold, approve, deny."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from audit.models import AuditEvent
from security.models import SuspiciousSignIn, TrackedSession, TrustedDevice
from security.suspicious.services import haversine_km
from security.tests.helpers import (
    LONDON,
    MANCHESTER,
    NEW_YORK,
    PARIS,
    SYDNEY,
    browser,
    link_from,
    path_of,
    sign_in,
)

pytestmark = pytest.mark.usefixtures("emails_sent_at_once", "geo_db", "suspicious_checks_on")

HELD_URL = "/auth/held/"


def _sign_in_from(client, user, password, ip):
    return client.post(
        "/auth/login/", {"username": user.username, "password": password}, REMOTE_ADDR=ip
    )


def _held_emails(mailoutbox):
    return [m for m in mailoutbox if "waiting for approval" in m.subject]


# --- Detection --------------------------------------------------------------------------


def test_haversine_gives_the_great_circle_distance():
    assert haversine_km(51.5142, -0.0931, 40.7128, -74.0060) == pytest.approx(5570, rel=0.01)
    assert haversine_km(48.8566, 2.3522, 48.8566, 2.3522) == 0


def test_the_first_sign_in_is_never_held(alice, password, mailoutbox):
    assert sign_in(browser(SYDNEY), alice, password)["Location"] == "/dashboard/"
    assert not SuspiciousSignIn.objects.exists()


def test_a_sign_in_from_a_new_country_is_held(alice, password, london_laptop, mailoutbox):
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        laptop = browser(PARIS)
        response = sign_in(laptop, alice, password)
    assert response.status_code == 302 and response["Location"] == HELD_URL
    held = SuspiciousSignIn.objects.get(user=alice)
    assert held.reasons == ["new_country"]
    assert (held.city, held.country_code, held.ip) == ("Paris", "FR", PARIS)
    # Not signed in while held.
    assert laptop.get("/dashboard/").status_code == 302
    page = laptop.get(HELD_URL).content.decode()
    assert "Waiting for your approval" in page and 'http-equiv="refresh"' in page
    assert "Check again" in page
    [email] = _held_emails(mailoutbox)
    assert "Paris, France" in email.body and PARIS in email.body
    assert AuditEvent.objects.filter(action="suspicious_signin_held", user=alice).exists()


def test_a_sign_in_from_a_known_country_is_not_held(alice, password, london_laptop):
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        response = _sign_in_from(browser(), alice, password, MANCHESTER)
    assert response["Location"] != HELD_URL
    assert not SuspiciousSignIn.objects.exists()


def test_impossible_travel_is_held(alice, password, london_laptop):
    # London to Manchester (260 km, same country) in ten minutes is 1,570 km/h.
    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        london_laptop.post("/auth/logout/")
        response = _sign_in_from(london_laptop, alice, password, MANCHESTER)
    assert response["Location"] == HELD_URL
    assert SuspiciousSignIn.objects.get(user=alice).reasons == ["impossible_travel"]


def test_possible_travel_is_not_held(alice, password, london_laptop):
    # The same trip in half an hour is 520 km/h: a plane could do it.
    with time_machine.travel(timezone.now() + timedelta(minutes=30), tick=False):
        london_laptop.post("/auth/logout/")
        response = _sign_in_from(london_laptop, alice, password, MANCHESTER)
    assert response["Location"] == "/dashboard/"


def test_new_york_an_hour_after_london_is_both_a_new_country_and_impossible(
    alice, password, london_laptop
):
    with time_machine.travel(timezone.now() + timedelta(hours=1), tick=False):
        _sign_in_from(browser(), alice, password, NEW_YORK)
    assert SuspiciousSignIn.objects.get(user=alice).reasons == ["new_country", "impossible_travel"]


def test_a_burst_of_failures_on_the_account_holds_the_next_sign_in(alice, password, london_laptop):
    for n in range(10):  # from ten addresses, so no single pair is locked
        sign_in(browser(f"198.51.100.{n + 1}"), alice, "this is not her password")
    london_laptop.post("/auth/logout/")
    response = sign_in(london_laptop, alice, password)
    assert response["Location"] == HELD_URL
    assert SuspiciousSignIn.objects.get(user=alice).reasons == ["failure_burst"]


def test_without_geoip_the_location_checks_are_skipped_and_logged(
    alice, password, london_laptop, settings, tmp_path, caplog
):
    settings.GEOIP_PATH = str(tmp_path / "missing.mmdb")
    with caplog.at_level(logging.WARNING):
        response = _sign_in_from(browser(), alice, password, NEW_YORK)
    assert response["Location"] != HELD_URL
    assert "location checks skipped: GeoIP unavailable" in caplog.text
    assert not SuspiciousSignIn.objects.exists()


def test_with_the_checks_off_nothing_is_held(alice, password, london_laptop, settings):
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    london_laptop.post("/auth/logout/")
    response = _sign_in_from(london_laptop, alice, password, NEW_YORK)
    assert response["Location"] == "/dashboard/"


# --- Approve ----------------------------------------------------------------------------


def test_approving_from_the_email_lets_the_waiting_browser_in(
    alice, password, london_laptop, mailoutbox
):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        sign_in(traveller, alice, password)
        approve = path_of(link_from(mailoutbox, "approve it:"))

        # The link shows what it will do; a GET (a mail scanner) decides nothing.
        page = browser("192.0.2.1").get(approve)
        assert page.status_code == 200 and "Approve this sign-in?" in page.content.decode()
        assert traveller.get(HELD_URL).status_code == 200

        done = browser("192.0.2.1").post(approve)
        assert "Sign-in approved" in done.content.decode()

        response = traveller.get(HELD_URL)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert traveller.get("/dashboard/").status_code == 200
    assert SuspiciousSignIn.objects.get(user=alice).status == SuspiciousSignIn.Status.COMPLETED
    assert TrackedSession.objects.filter(
        user=alice, country_code="FR", ended_at__isnull=True
    ).exists()
    # The approved browser is trusted: no emailed code was asked for.
    assert TrustedDevice.objects.filter(user=alice, ip=PARIS).exists()
    assert AuditEvent.objects.filter(
        action="suspicious_signin_approved", metadata__via="email"
    ).exists()
    # Single use.
    assert browser("192.0.2.1").post(approve).status_code == 400


def test_approving_from_a_trusted_signed_in_session(alice, password, london_laptop, mailoutbox):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        sign_in(traveller, alice, password)
        held = SuspiciousSignIn.objects.get(user=alice)
        # Alice's London laptop is still signed in (its session is days old: refresh it).
        london_laptop.post("/auth/logout/")
        sign_in(london_laptop, alice, password)

        page = london_laptop.get("/settings/sessions/").content.decode()
        assert "A sign-in is waiting for your approval" in page and "Paris, France" in page
        london_laptop.post(f"/settings/sessions/held/{held.pk}/approve/")
        assert traveller.get(HELD_URL)["Location"] == "/dashboard/"
    assert AuditEvent.objects.filter(
        action="suspicious_signin_approved", metadata__via="session"
    ).exists()


def test_an_untrusted_session_cannot_approve(alice, password, london_laptop, mailoutbox, settings):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        sign_in(traveller, alice, password)
        held = SuspiciousSignIn.objects.get(user=alice)
        settings.SUSPICIOUS_SIGNIN_CHECKS = False
        settings.NEW_DEVICE_APPROVAL = False
        other = browser(LONDON)
        sign_in(other, alice, password)
        # Signing in trusted this browser (approval is off); make it untrusted again.
        TrustedDevice.objects.filter(user=alice).order_by("-pk").first().delete()
        assert "waiting for your approval" not in other.get("/settings/sessions/").content.decode()
        other.post(f"/settings/sessions/held/{held.pk}/approve/")
    held.refresh_from_db()
    assert held.status == SuspiciousSignIn.Status.PENDING


def test_approval_links_expire_after_30_minutes(alice, password, london_laptop, mailoutbox):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False) as clock:
        sign_in(traveller, alice, password)
        approve = path_of(link_from(mailoutbox, "approve it:"))
        clock.shift(timedelta(minutes=30, seconds=1))
        assert browser().post(approve).status_code == 400
        response = traveller.get(HELD_URL, follow=True)
    assert "expired" in response.content.decode()
    assert traveller.get("/dashboard/").status_code == 302


# --- Deny -------------------------------------------------------------------------------


def test_denying_from_the_email_ends_everything_and_forces_a_password_reset(
    alice, password, london_laptop, mailoutbox
):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(hours=20), tick=False):
        london_laptop.post("/auth/logout/")
        sign_in(london_laptop, alice, password)
        sign_in(traveller, alice, password)
        deny = path_of(link_from(mailoutbox, "deny it."))
        page = browser("192.0.2.1").get(deny).content.decode()
        assert "Deny this sign-in?" in page and "secure my account" in page

        done = browser("192.0.2.1").post(deny)
        assert "Your account is secured" in done.content.decode()

        # The held attempt is over, every session ended, the password unusable.
        response = traveller.get(HELD_URL, follow=True)
        assert "This sign-in was denied." in response.content.decode()
        assert london_laptop.get("/dashboard/").status_code == 302
    alice.refresh_from_db()
    assert not alice.has_usable_password()
    assert not TrackedSession.objects.filter(user=alice, ended_at__isnull=True).exists()
    assert set(TrackedSession.objects.filter(user=alice).values_list("end_reason", flat=True)) >= {
        "denied"
    }
    assert not TrustedDevice.objects.filter(user=alice).exists()
    reset = [
        m for m in mailoutbox if "/auth/password/reset/" in m.body and m.to == ["alice@example.com"]
    ]
    assert reset, [m.subject for m in mailoutbox]
    event = AuditEvent.objects.get(action="suspicious_signin_denied")
    assert event.user == alice and event.metadata["via"] == "email"
    # The old password no longer works.
    refused = sign_in(browser(LONDON), alice, password)
    assert refused.status_code == 400 and "with those details" in refused.content.decode()


def test_denying_from_a_trusted_session_signs_it_out_too(
    alice, password, london_laptop, mailoutbox
):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(hours=20), tick=False):
        london_laptop.post("/auth/logout/")
        sign_in(london_laptop, alice, password)
        sign_in(traveller, alice, password)
        held = SuspiciousSignIn.objects.get(user=alice)
        response = london_laptop.post(f"/settings/sessions/held/{held.pk}/deny/", follow=True)
    assert response.redirect_chain[-1][0] == "/auth/login/"
    assert "Sign-in denied" in response.content.decode()
    assert london_laptop.get("/dashboard/").status_code == 302
    held.refresh_from_db()
    assert held.status == SuspiciousSignIn.Status.DENIED


def test_a_forged_or_tampered_decision_link_is_refused(alice, password, london_laptop, mailoutbox):
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        sign_in(browser(PARIS), alice, password)
        approve = path_of(link_from(mailoutbox, "approve it:"))
        tampered = approve[:-3] + ("x" if approve[-3] != "x" else "y") + approve[-2:]
        assert browser().post(tampered).status_code == 400
        assert browser().post("/auth/review/not-a-token/").status_code == 400
    assert SuspiciousSignIn.objects.get(user=alice).status == SuspiciousSignIn.Status.PENDING


# --- Correct password, wrong second factor; the next-sign-in banner ----------------------


def test_a_right_password_with_a_wrong_2fa_code_emails_the_owner_once_an_hour(
    alice, password, london_laptop, mailoutbox
):
    from security.tests.helpers import enroll, submit_code

    enrolled = enroll(alice)
    wrong = "000000" if enrolled.code() != "000000" else "111111"
    attacker = browser(NEW_YORK)
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False) as clock:
        sign_in(attacker, alice, password)
        submit_code(attacker, wrong)
        clock.shift(timedelta(seconds=30))
        submit_code(attacker, wrong)
    alerts = [m for m in mailoutbox if m.subject == "Someone entered your Panel password"]
    assert len(alerts) == 1
    assert "New York, United States" in alerts[0].body and NEW_YORK in alerts[0].body
    assert wrong not in alerts[0].body


def test_the_next_sign_in_shows_how_many_attempts_failed_since_the_last_one(
    alice, password, london_laptop
):
    for n in range(3):
        sign_in(browser(f"198.51.100.{n + 1}"), alice, "not the right one")
    london_laptop.post("/auth/logout/")
    response = london_laptop.post(
        "/auth/login/", {"username": "alice", "password": password}, follow=True
    )
    assert "There were 3 failed attempts to sign in to your account" in response.content.decode()
    london_laptop.post("/auth/logout/")
    again = london_laptop.post(
        "/auth/login/", {"username": "alice", "password": password}, follow=True
    )
    assert "failed attempt" not in again.content.decode()


# --- Review fixes: the waiting browser, late approvals, what the deny path ends ---------------


def _copy_session(source, target) -> None:
    from django.conf import settings as django_settings

    name = django_settings.SESSION_COOKIE_NAME
    target.cookies[name] = source.cookies[name].value


def test_a_copy_of_the_waiting_session_in_another_browser_cannot_use_the_approval(
    alice, password, london_laptop, mailoutbox
):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        assert sign_in(traveller, alice, password)["Location"] == HELD_URL
        thief = browser(PARIS)  # no device cookie of its own
        _copy_session(traveller, thief)
        browser("192.0.2.1").post(path_of(link_from(mailoutbox, "approve it:")))

        stolen = thief.get(HELD_URL)
        assert stolen.status_code == 403
        assert "Continue in the other browser" in stolen.content.decode()
        assert thief.post(HELD_URL, {"cancel": "1"}).status_code == 403
        assert thief.get("/dashboard/").status_code == 302
        # The browser the hold was made for still finishes.
        assert traveller.get(HELD_URL)["Location"] == "/dashboard/"
    assert TrustedDevice.objects.filter(user=alice, ip=PARIS).count() == 1


def test_an_approval_not_picked_up_within_30_minutes_lapses(
    alice, password, london_laptop, mailoutbox
):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False) as clock:
        sign_in(traveller, alice, password)
        browser("192.0.2.1").post(path_of(link_from(mailoutbox, "approve it:")))
        clock.shift(timedelta(minutes=30, seconds=1))
        response = traveller.get(HELD_URL, follow=True)
        assert response.redirect_chain[-1][0] == "/auth/login/"
        assert "expired" in response.content.decode()
        assert traveller.get("/dashboard/").status_code == 302
    assert SuspiciousSignIn.objects.get(user=alice).status == SuspiciousSignIn.Status.APPROVED


def test_securing_the_account_stops_an_approved_sign_in_its_browser_has_not_finished(
    alice, password, london_laptop, mailoutbox
):
    from security.suspicious.services import secure_account

    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        sign_in(traveller, alice, password)
        browser("192.0.2.1").post(path_of(link_from(mailoutbox, "approve it:")))
        secure_account(user=alice)  # e.g. "This wasn't me" on another email, just then
        response = traveller.get(HELD_URL, follow=True)
        assert "This sign-in was denied." in response.content.decode()
        assert traveller.get("/dashboard/").status_code == 302
    assert SuspiciousSignIn.objects.get(user=alice).status == SuspiciousSignIn.Status.DENIED


def test_securing_the_account_ends_a_sign_in_waiting_for_its_second_factor(
    alice, password, london_laptop
):
    from security.suspicious.services import secure_account
    from security.tests.helpers import enroll, submit_code

    enrolled = enroll(alice)
    attacker = browser(LONDON)
    assert sign_in(attacker, alice, password)["Location"] == "/auth/2fa/"
    secure_account(user=alice)
    response = submit_code(attacker, enrolled.code())
    assert response.status_code == 302 and response["Location"] == "/auth/login/"
    assert attacker.get("/dashboard/").status_code == 302


def test_a_password_change_ends_half_finished_sign_ins_of_the_old_password(
    alice, password, london_laptop
):
    from security.tests.helpers import enroll, submit_code

    enrolled = enroll(alice)
    attacker = browser(LONDON)
    sign_in(attacker, alice, password)
    alice.set_password("a brand new passphrase 77")
    alice.save()
    assert submit_code(attacker, enrolled.code())["Location"] == "/auth/login/"
    assert attacker.get("/dashboard/").status_code == 302


def test_securing_the_account_kills_unused_new_device_codes(
    alice, password, london_laptop, mailoutbox, settings
):
    from security.models import NewDeviceChallenge
    from security.suspicious.services import secure_account
    from security.tests.helpers import SAFARI_IPHONE, code_from

    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    phone = browser(LONDON, SAFARI_IPHONE)
    assert sign_in(phone, alice, password)["Location"] == "/auth/device/"
    code = code_from(mailoutbox)
    secure_account(user=alice)
    challenge = NewDeviceChallenge.objects.get(user=alice)
    assert challenge.code_expires_at <= timezone.now()
    assert phone.post("/auth/device/", {"code": code})["Location"] == "/auth/login/"
    assert phone.get("/dashboard/").status_code == 302


def test_cancelling_the_wait_kills_the_links_and_the_sessions_tab_entry(
    alice, password, london_laptop, mailoutbox
):
    from security.suspicious.services import pending_for

    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        sign_in(traveller, alice, password)
        approve = path_of(link_from(mailoutbox, "approve it:"))
        response = traveller.post(HELD_URL, {"cancel": "1"}, follow=True)
        assert "Sign-in cancelled." in response.content.decode()
        assert pending_for(alice) == []
        assert browser("192.0.2.1").post(approve).status_code == 400
    assert AuditEvent.objects.filter(action="suspicious_signin_cancelled", user=alice).exists()


def test_the_waiting_page_needs_no_javascript_to_continue(
    alice, password, london_laptop, mailoutbox
):
    traveller = browser(PARIS)
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        sign_in(traveller, alice, password)
        page = traveller.get(HELD_URL).content.decode()
        # It refreshes itself, and "Check again" is a plain link back to itself.
        assert '<meta http-equiv="refresh" content="10">' in page
        assert f'href="{HELD_URL}"' in page
        assert "<noscript" not in page  # nothing hidden behind a script
        browser("192.0.2.1").post(path_of(link_from(mailoutbox, "approve it:")))
        assert traveller.get(HELD_URL)["Location"] == "/dashboard/"


def test_held_sign_ins_are_listed_for_the_users_own_trusted_browser_only(alice, bob):
    """One query answers both questions (security.suspicious.services
    .pending_for_trusted_browser): a token of another user's trusted browser, an unknown
    token or none lists nothing; an expired or decided hold is never listed."""
    from security.devices.services import token_hash
    from security.suspicious.services import pending_for_trusted_browser

    def trust(user, token):
        TrustedDevice.objects.create(user=user, token_hash=token_hash(token))

    def hold(**extra):
        fields = {"expires_at": timezone.now() + timedelta(minutes=30), **extra}
        return SuspiciousSignIn.objects.create(
            user=alice, ip=PARIS, reasons=["new_country"], **fields
        )

    trust(alice, "alice-laptop")
    trust(bob, "bob-laptop")
    waiting = hold()
    hold(status=SuspiciousSignIn.Status.DENIED)
    hold(expires_at=timezone.now() - timedelta(seconds=1))
    assert [h.pk for h in pending_for_trusted_browser(alice, "alice-laptop")] == [waiting.pk]
    assert pending_for_trusted_browser(alice, "bob-laptop") == []
    assert pending_for_trusted_browser(alice, "never-issued") == []
    assert pending_for_trusted_browser(alice, None) == []
