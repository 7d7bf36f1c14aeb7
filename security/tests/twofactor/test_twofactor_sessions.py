"""Turning 2FA on ends every session that signed in with the password alone."""

from __future__ import annotations

import pyotp
import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from security.models import TrackedSession
from security.tests.helpers import sign_in
from security.tests.twofactor.test_twofactor_views import qr_uri, start_enrollment

pytestmark = pytest.mark.django_db


def test_enabling_2fa_signs_out_the_other_password_only_sessions(alice, password, settings):
    # The second browser would otherwise need the emailed new-device code first.
    settings.NEW_DEVICE_APPROVAL = False
    laptop = Client(REMOTE_ADDR="81.2.69.160", HTTP_USER_AGENT="Mozilla/5.0 (X11) Firefox/128")
    phone = Client(REMOTE_ADDR="81.2.69.160", HTTP_USER_AGENT="Mozilla/5.0 (X11) Firefox/128")
    sign_in(laptop, alice, password)
    sign_in(phone, alice, password)
    assert phone.get("/dashboard/").status_code == 200

    setup = start_enrollment(laptop, password)
    authenticator = pyotp.parse_uri(qr_uri(setup))
    confirmed = laptop.post("/settings/security/2fa/setup/", {"code": authenticator.now()})
    assert confirmed.status_code == 200
    assert "Two-factor authentication is on." in confirmed.content.decode()

    # The enrolling session proved the second factor: it stays, marked verified.
    assert laptop.session.get(DEVICE_ID_SESSION_KEY)
    assert laptop.get("/dashboard/").status_code == 200
    # The other session signed in with the password alone: it must sign in again.
    after = phone.get("/dashboard/", follow=True)
    assert after.redirect_chain[0][1] == 302
    assert after.redirect_chain[-1][0].startswith("/auth/login/")
    assert "sign in again with your authenticator app" in after.content.decode()
    ended = TrackedSession.objects.filter(user=alice, end_reason="2fa_enabled")
    assert ended.count() == 1
