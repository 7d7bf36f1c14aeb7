"""Security review: a held (suspicious) sign-in got past the password of the moment; a
new password must end it, as it ends every other half-finished sign-in.

Before the fix the waiting browser kept only the hold's id: the owner who approved by
mistake, then reset or changed the password, still let the other browser in with the old
one (and a reset deletes every session of the user but not a held one, which carries no
signed-in user yet).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts import services as account_services
from security.models import SuspiciousSignIn
from security.tests.helpers import PARIS, browser, link_from, path_of, sign_in

pytestmark = pytest.mark.usefixtures("emails_sent_at_once", "geo_db", "suspicious_checks_on")

HELD_URL = "/auth/held/"
NEW_PASSWORD = "a brand new passphrase 77 for alice"


def _held_and_approved(alice, password, mailoutbox):
    traveller = browser(PARIS)
    assert sign_in(traveller, alice, password)["Location"] == HELD_URL
    done = browser("192.0.2.1").post(path_of(link_from(mailoutbox, "approve it:")))
    assert "Sign-in approved" in done.content.decode()
    return traveller


def test_a_password_reset_after_approving_stops_the_waiting_browser(
    alice, password, london_laptop, mailoutbox
):
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        traveller = _held_and_approved(alice, password, mailoutbox)
        account_services.reset_password(user=alice, new_password=NEW_PASSWORD)
        response = traveller.get(HELD_URL)
        assert response.status_code == 302 and response["Location"] == "/auth/login/"
        assert traveller.get("/dashboard/").status_code == 302
    assert "_auth_user_id" not in traveller.session
    assert SuspiciousSignIn.objects.get(user=alice).status != SuspiciousSignIn.Status.COMPLETED


def test_a_password_change_before_approving_stops_the_waiting_browser(
    alice, password, london_laptop, mailoutbox
):
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        traveller = browser(PARIS)
        assert sign_in(traveller, alice, password)["Location"] == HELD_URL
        alice.set_password(NEW_PASSWORD)
        alice.save()
        browser("192.0.2.1").post(path_of(link_from(mailoutbox, "approve it:")))
        traveller.get(HELD_URL)
        assert traveller.get("/dashboard/").status_code == 302
    assert "_auth_user_id" not in traveller.session


def test_an_approved_sign_in_with_the_current_password_still_completes(
    alice, password, london_laptop, mailoutbox
):
    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        traveller = _held_and_approved(alice, password, mailoutbox)
        response = traveller.get(HELD_URL)
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert traveller.session.get("_auth_user_id") == str(alice.pk)


def test_a_sign_in_held_before_2fa_was_turned_on_cannot_finish_without_a_code(
    alice, password, london_laptop, mailoutbox
):
    # It got past the password alone; by the time it is approved the account has 2FA,
    # and every way in must then have passed the second factor.
    from security.tests.helpers import enroll

    with time_machine.travel(timezone.now() + timedelta(days=3), tick=False):
        traveller = browser(PARIS)
        assert sign_in(traveller, alice, password)["Location"] == HELD_URL
        enroll(alice)
        browser("192.0.2.1").post(path_of(link_from(mailoutbox, "approve it:")))
        response = traveller.get(HELD_URL)
        assert response.status_code == 302 and response["Location"] == "/auth/login/"
        assert traveller.get("/dashboard/").status_code == 302
    assert "_auth_user_id" not in traveller.session
