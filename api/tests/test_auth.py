"""Sign-in through the API (the same pipeline as the pages), tokens tied to tracked
sessions, refresh rotation with theft detection, sign-out, and 2FA management."""

from __future__ import annotations

import time
from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from api.models import TokenFamily
from audit.models import AuditEvent
from security.sessions.models import TrackedSession
from security.tests.helpers import code_from, enroll

from .conftest import bearer, stepped_up

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"
TWO_FA = "/api/v1/auth/login/2fa"
DEVICE = "/api/v1/auth/login/device"
REFRESH = "/api/v1/auth/token/refresh"
LOGOUT = "/api/v1/auth/logout"
DOMAINS = "/api/v1/domains"
UA = "panel-cli/1.0 (+https://example.com)"


@pytest.fixture(autouse=True)
def _fast(settings):
    settings.BACKUP_CODE_SCRYPT_N = 2**8


def post(client, path, body, **headers):
    return client.post(path, body, content_type="application/json", HTTP_USER_AGENT=UA, **headers)


def login(client, user, password, **extra):
    return post(client, LOGIN, {"login": user.username, "password": password, **extra})


def test_a_client_using_only_http_enrolls_2fa_signs_in_refreshes_and_loses_a_replayed_family(
    api, alice, acme, password, client, emails_sent_at_once, settings
):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        # 1. The account's first sign-in: tokens at once (the first client is trusted).
        first = login(api, alice, password)
        assert first.status_code == 200, first.content
        body = first.json()
        access, device_token = body["accessToken"], body["deviceToken"]
        assert body["tokenType"] == "Bearer" and body["expiresIn"] == 15 * 60
        assert body["refreshExpiresIn"] == 7 * 24 * 3600
        assert post(api, DOMAINS, {"hostname": "ok.example"}, **bearer(access)).status_code == 201

        # 2. Enroll 2FA with the current password, then confirm with pyotp.
        refused = post(api, "/api/v1/auth/2fa/setup", {"password": "wrong"}, **bearer(access))
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "invalid_password"
        setup = post(api, "/api/v1/auth/2fa/setup", {"password": password}, **bearer(access))
        assert setup.status_code == 200
        secret = setup.json()["secret"]
        assert setup.json()["otpauthUri"].startswith("otpauth://totp/")
        authenticator = pyotp.TOTP(secret)
        enrolled = post(
            api,
            "/api/v1/auth/2fa/verify-enrollment",
            {"code": authenticator.now()},
            **bearer(access),
        )
        assert enrolled.status_code == 200, enrolled.content
        assert len(enrolled.json()["backupCodes"]) == 10
        # Turning 2FA on ended the password-only sign-in, this one too.
        assert api.get(DOMAINS, **bearer(access)).status_code == 401

        # 3. Sign in through the challenge (this client is trusted: its deviceToken).
        clock.shift(timedelta(seconds=31))
        challenge = login(api, alice, password, deviceToken=device_token)
        assert challenge.status_code == 200
        assert challenge.json()["needs2fa"] is True and "accessToken" not in challenge.json()
        two_factor_token = challenge.json()["twoFactorToken"]
        wrong = post(api, TWO_FA, {"twoFactorToken": two_factor_token, "code": "000000"})
        assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_code"
        clock.shift(timedelta(seconds=2))  # django-otp's throttle after a wrong code
        done = post(api, TWO_FA, {"twoFactorToken": two_factor_token, "code": authenticator.now()})
        assert done.status_code == 200, done.content
        pair = done.json()
        # The challenge token was for one step: it is spent.
        again = post(api, TWO_FA, {"twoFactorToken": two_factor_token, "code": authenticator.now()})
        assert again.status_code == 401
        session = TrackedSession.objects.get(user=alice, ended_at__isnull=True)
        assert session.method == "totp"
        signin = AuditEvent.objects.filter(action="signin", outcome="success").latest("id")
        assert signin.metadata == {"via": "api", "method": "totp"}

        # 4. Refresh: a new pair, the old refresh token is spent.
        clock.shift(timedelta(minutes=1))
        refreshed = post(api, REFRESH, {"refreshToken": pair["refreshToken"]})
        assert refreshed.status_code == 200
        new = refreshed.json()
        assert new["refreshToken"] != pair["refreshToken"]
        assert api.get(DOMAINS, **bearer(new["accessToken"])).status_code == 200

        # 5. The old refresh token again: theft. The whole family ends, audited.
        replay = post(api, REFRESH, {"refreshToken": pair["refreshToken"]})
        assert replay.status_code == 401 and replay.json()["error"]["code"] == "token_reused"
        assert post(api, REFRESH, {"refreshToken": new["refreshToken"]}).status_code == 401
        assert api.get(DOMAINS, **bearer(new["accessToken"])).status_code == 401
        assert TokenFamily.objects.get(session=session).revoked_at is not None
        event = AuditEvent.objects.get(action="api_token_family_revoked")
        assert event.user == alice and pair["refreshToken"] not in str(event.metadata)

        # 6. A new sign-in is listed in the Sessions tab and revoked from it.
        clock.shift(timedelta(seconds=31))
        challenge = login(api, alice, password, deviceToken=device_token).json()
        tokens = post(
            api,
            TWO_FA,
            {"twoFactorToken": challenge["twoFactorToken"], "code": authenticator.now()},
        ).json()
        record = TrackedSession.objects.get(user=alice, ended_at__isnull=True)
        client.force_login(alice)
        page_session = client.session
        from django_otp import DEVICE_ID_SESSION_KEY

        from security.twofactor.models import EncryptedTOTPDevice

        page_session[DEVICE_ID_SESSION_KEY] = EncryptedTOTPDevice.objects.get(
            user=alice
        ).persistent_id
        page_session.save()
        listed = client.get(reverse("security:sessions"))
        assert listed.status_code == 200
        assert reverse("security:session_revoke", args=[record.pk]) in listed.content.decode()
        stepped_up(client)
        revoked = client.post(reverse("security:session_revoke", args=[record.pk]))
        assert revoked.status_code == 302
        response = api.get(DOMAINS, **bearer(tokens["accessToken"]))
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
        assert post(api, REFRESH, {"refreshToken": tokens["refreshToken"]}).status_code == 401


def test_a_wrong_password_is_a_401_with_the_same_answer_as_an_unknown_account(api, alice, acme):
    wrong = post(api, LOGIN, {"login": "alice", "password": "not the password"})
    unknown = post(api, LOGIN, {"login": "nobody", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert not wrong.cookies and not TrackedSession.objects.exists()


def test_a_disabled_account_is_said_so_only_after_its_right_password(api, alice, acme, password):
    alice.is_active = False
    alice.save()
    wrong = post(api, LOGIN, {"login": "alice", "password": "not the password"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
    right = post(api, LOGIN, {"login": "alice", "password": password})
    assert right.status_code == 403 and right.json()["error"]["code"] == "account_disabled"
    assert not TrackedSession.objects.exists()


def test_the_lockout_applies_as_on_the_pages(api, alice, acme, password, settings):
    settings.SIGNIN_RATE_LIMIT = "1000/m"
    statuses = [
        post(api, LOGIN, {"login": "alice", "password": f"wrong {n}"}).status_code for n in range(7)
    ]
    assert statuses[-1] == 429
    locked = post(api, LOGIN, {"login": "alice", "password": password})
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "locked"
    assert not TrackedSession.objects.exists()


def test_a_new_client_needs_the_emailed_code_and_gets_a_device_token(
    api, alice, acme, password, mailoutbox, emails_sent_at_once
):
    assert login(api, alice, password).status_code == 200  # the first client is trusted
    other = type(api)(REMOTE_ADDR="198.51.100.99")
    answer = login(other, alice, password)
    assert answer.status_code == 200
    body = answer.json()
    assert body["needsDeviceCode"] is True and "accessToken" not in body
    code = code_from(mailoutbox)
    wrong_device = post(
        other,
        DEVICE,
        {"signinToken": body["signinToken"], "deviceToken": "forged", "code": code},
    )
    assert wrong_device.status_code == 400
    done = post(
        other,
        DEVICE,
        {"signinToken": body["signinToken"], "deviceToken": body["deviceToken"], "code": code},
    )
    assert done.status_code == 200, done.content
    assert done.json()["accessToken"]
    # Next time, the device token spares the code.
    again = login(other, alice, password, deviceToken=done.json()["deviceToken"])
    assert again.status_code == 200 and again.json()["accessToken"]


def test_sign_out_ends_the_tokens(api, alice, acme, password):
    tokens = login(api, alice, password).json()
    assert post(api, LOGOUT, {}, **bearer(tokens["accessToken"])).status_code == 204
    assert api.get(DOMAINS, **bearer(tokens["accessToken"])).status_code == 401
    assert post(api, REFRESH, {"refreshToken": tokens["refreshToken"]}).status_code == 401
    assert TrackedSession.objects.get().end_reason == "signout"


def test_a_password_change_disabling_or_leaving_the_team_ends_api_access_at_once(
    api, alice, acme, dave, password
):
    from accounts.signals import password_changed
    from teams.models import Membership

    tokens = login(api, alice, password).json()
    password_changed.send(sender=None, user=alice, request=None, how="reset")
    assert api.get(DOMAINS, **bearer(tokens["accessToken"])).status_code == 401

    dave_tokens = login(api, dave, password).json()
    assert api.get(DOMAINS, **bearer(dave_tokens["accessToken"])).status_code == 200
    Membership.objects.filter(user=dave).delete()
    assert api.get(DOMAINS, **bearer(dave_tokens["accessToken"])).status_code == 403
    dave.is_active = False
    dave.save()
    assert api.get(DOMAINS, **bearer(dave_tokens["accessToken"])).status_code == 401


def test_expired_and_tampered_tokens_are_refused(api, alice, acme, password):
    tokens = login(api, alice, password).json()
    head, payload, signature = tokens["accessToken"].split(".")
    tampered = f"{head}.{payload}.{signature[:-2]}xx"
    assert api.get(DOMAINS, **bearer(tampered)).status_code == 401
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert api.get(DOMAINS, **bearer(tokens["accessToken"])).status_code == 401
    garbage = post(api, REFRESH, {"refreshToken": "not-a-token"})
    assert garbage.status_code == 401 and garbage.json()["error"]["code"] == "invalid_token"


def test_a_key_cannot_manage_2fa_or_sign_out(api, alice, acme, make_key):
    new = make_key(alice, acme)
    response = post(api, "/api/v1/auth/2fa/setup", {"password": "x"}, **bearer(new.raw))
    assert response.status_code == 403 and response.json()["error"]["code"] == "token_required"


def test_2fa_disable_and_regenerate_through_the_api(api, alice, acme, password):
    enrolled = enroll(alice)
    authenticator = pyotp.TOTP(__import__("base64").b32encode(enrolled.key).decode())
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        challenge = login(api, alice, password).json()
        tokens = post(
            api,
            TWO_FA,
            {"twoFactorToken": challenge["twoFactorToken"], "code": authenticator.now()},
        ).json()
        access = tokens["accessToken"]
        clock.shift(timedelta(seconds=31))
        refused = post(
            api,
            "/api/v1/auth/2fa/regenerate-backup-codes",
            {"code": enrolled.codes[0]},
            **bearer(access),
        )
        assert refused.status_code == 400  # a backup code cannot renew the codes
        fresh = post(
            api,
            "/api/v1/auth/2fa/regenerate-backup-codes",
            {"code": authenticator.now()},
            **bearer(access),
        )
        assert fresh.status_code == 200 and len(fresh.json()["backupCodes"]) == 10
        off = post(
            api,
            "/api/v1/auth/2fa/disable",
            {"code": fresh.json()["backupCodes"][0]},
            **bearer(access),
        )
        assert off.status_code == 204
    from security.twofactor.totp import has_2fa

    assert not has_2fa(alice)
    assert time.time()  # the real clock is back


def test_a_held_sign_in_answers_a_clear_json_state_not_tokens(
    api, alice, acme, password, emails_sent_at_once, settings
):
    from audit.services import audit

    settings.SUSPICIOUS_SIGNIN_CHECKS = True
    for _ in range(10):  # a burst of failed attempts on the account
        audit("signin", outcome="failure", user=alice, metadata={"reason": "bad_credentials"})
    response = login(api, alice, password)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["held"] is True and "failure_burst" in body["reasons"]
    assert "accessToken" not in body and body["message"]
    assert not TrackedSession.objects.exists()
