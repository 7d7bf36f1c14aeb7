"""No secret of the 2FA, device and account flows reaches a log line, the audit trail or
django-axes' records (SECURITY.md rows 22 and 53).

accounts/tests/test_no_secrets_recorded.py checks the account flows on their own (sign-up,
verify, reset, change); this one runs one person's whole story through every flow that
handles a secret, the second factors and devices included, and then scans everything
that is kept: every log record at DEBUG (message, arguments and extra fields), every
AuditEvent, every axes AccessAttempt, AccessFailureLog and AccessLog row, the lockout
rows, and the bodies of sent emails.
"""

from __future__ import annotations

import base64
import logging
import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.core import serializers
from django.utils import timezone

from security.tests.helpers import FIREFOX_WINDOWS, code_from

from .access import LOGIN, browser

# Emails are sent at once (not on commit), so mailoutbox has the codes and links.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("emails_sent_at_once")]

SIGNUP_PASSWORD = "juniper sextant 93 marble kite"
CHANGED_PASSWORD = "harbor velvet 17 comet lantern"
RESET_PASSWORD = "saffron tundra 64 violin atlas"
WRONG_PASSWORDS = [
    "wrong guess about a password 1",
    "juniper sextant 93 marble kitX",  # one letter off
    "another wrong password entirely",
]


@pytest.fixture(autouse=True)
def _cheap_backup_codes_and_no_throttle(settings):
    settings.BACKUP_CODE_SCRYPT_N = 2**8
    # Time stands still in this story: django-otp's back-off after a wrong code (1 s,
    # 2 s, ...) would never end. The throttle has tests of its own.
    settings.OTP_THROTTLE_FACTOR = 0


class Secrets:
    """What was typed or shown: long secrets match anywhere, 6-digit codes only as a
    whole number (a timestamp's microseconds are not a code)."""

    def __init__(self) -> None:
        self.long: set[str] = set()
        self.codes: set[str] = set()

    def add(self, *values: str) -> None:
        for value in values:
            if re.fullmatch(r"\d{6}", value):
                self.codes.add(value)
            elif len(value) >= 8:
                self.long.add(value)

    def backup_codes(self, codes: list[str]) -> None:
        for code in codes:
            self.add(code, code.upper(), code.replace("-", ""), code.replace("-", "").upper())

    def found_in(self, text: str) -> list[str]:
        found = [s for s in self.long if s in text]
        found += [c for c in self.codes if re.search(rf"(?<![\d.]){c}(?!\d)", text)]
        return found


def links(mailoutbox) -> list[str]:
    found = []
    for message in mailoutbox:
        found += re.findall(r"https?://[^\s<>\"']+", message.body)
    return found


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_no_secret_of_any_flow_is_logged_audited_or_kept_by_axes(mailoutbox, caplog, settings):
    from accounts.models import OutboxEmail, User

    caplog.set_level(logging.DEBUG)
    secrets = Secrets()
    secrets.add(SIGNUP_PASSWORD, CHANGED_PASSWORD, RESET_PASSWORD, *WRONG_PASSWORDS)
    start = timezone.now()
    # Time stands still unless shifted: each TOTP step is used at most once, so the
    # story moves 31 seconds on before each new code.
    with time_machine.travel(start, tick=False) as clock:
        a = browser("203.0.113.60")

        # Sign up and verify.
        a.post(
            "/auth/signup/",
            {
                "email": "casey@example.com",
                "full_name": "Casey Jones",
                "password1": SIGNUP_PASSWORD,
                "password2": SIGNUP_PASSWORD,
            },
        )
        verify = path_of(next(u for u in links(mailoutbox) if "/auth/verify/" in u))
        a.get(verify)
        a.post("/auth/verify/confirm/")
        user = User.objects.get(email="casey@example.com")
        assert user.email_verified

        # Sign in with the password (the first browser is trusted without a code).
        a.post(LOGIN, {"username": "casey@example.com", "password": WRONG_PASSWORDS[0]})
        response = a.post(LOGIN, {"username": "casey@example.com", "password": SIGNUP_PASSWORD})
        assert response["Location"] == "/dashboard/"

        # Enable 2FA: a wrong password, the right one, the key, a wrong code, the right one.
        a.post("/settings/security/2fa/enable/", {"password": WRONG_PASSWORDS[1]})
        a.post("/settings/security/2fa/enable/", {"password": SIGNUP_PASSWORD})
        page = a.get("/settings/security/2fa/setup/").content.decode()
        manual_key = re.search(r'id="manual-key"[^>]*>([^<]+)<', page).group(1).strip()
        key = manual_key.replace(" ", "")
        totp = pyotp.TOTP(key)
        secrets.add(
            manual_key, key, key.lower(), base64.b32decode(key + "=" * (-len(key) % 8)).hex()
        )
        wrong_code = f"{(int(totp.now()) + 500_000) % 1_000_000:06d}"
        secrets.add(wrong_code)
        a.post("/settings/security/2fa/setup/", {"code": wrong_code})
        code = totp.now()
        secrets.add(code)
        page = a.post("/settings/security/2fa/setup/", {"code": code}).content.decode()
        backup = re.findall(r"<li><code>([^<]+)</code></li>", page)
        assert len(backup) == 10
        secrets.backup_codes(backup)
        a.post("/auth/logout/")

        # Sign in with the password and a TOTP code (after a wrong one).
        clock.shift(timedelta(seconds=31))
        a.post(LOGIN, {"username": "casey", "password": SIGNUP_PASSWORD})
        a.post("/auth/2fa/", {"method": "totp", "code": wrong_code})
        code = totp.now()
        secrets.add(code)
        assert a.post("/auth/2fa/", {"method": "totp", "code": code})["Location"] == "/dashboard/"
        secrets.add(a.cookies["sessionid"].value)
        a.post("/auth/logout/")

        # Sign in with a backup code (after a wrong one).
        a.post(LOGIN, {"username": "casey", "password": SIGNUP_PASSWORD})
        a.post("/auth/2fa/?method=backup", {"method": "backup", "code": "zzzz-zzzz-zzzz-zzzz"})
        response = a.post("/auth/2fa/?method=backup", {"method": "backup", "code": backup[0]})
        assert response["Location"] == "/dashboard/"

        # New backup codes, with a fresh TOTP code.
        clock.shift(timedelta(seconds=31))
        code = totp.now()
        secrets.add(code)
        page = a.post("/settings/security/2fa/backup-codes/", {"code": code}).content.decode()
        backup = re.findall(r"<li><code>([^<]+)</code></li>", page)
        assert len(backup) == 10
        secrets.backup_codes(backup)

        # Another browser: password, TOTP, then the emailed new-device code.
        b = browser("203.0.113.61", FIREFOX_WINDOWS)
        clock.shift(timedelta(seconds=31))
        b.post(LOGIN, {"username": "casey", "password": SIGNUP_PASSWORD})
        code = totp.now()
        secrets.add(code)
        assert b.post("/auth/2fa/", {"method": "totp", "code": code})["Location"] == "/auth/device/"
        device_code = code_from(mailoutbox)
        wrong_device_code = f"{(int(device_code) + 1) % 1_000_000:06d}"
        secrets.add(device_code, wrong_device_code)
        b.post("/auth/device/", {"code": wrong_device_code})
        assert b.post("/auth/device/", {"code": device_code})["Location"] == "/dashboard/"
        secrets.add(b.cookies["sessionid"].value)
        for cookie in b.cookies.values():
            if "device" in cookie.key:
                secrets.add(cookie.value, cookie.value.split(":")[0])

        # Step-up: a wrong password, the right one, then a code.
        b.post("/settings/sessions/confirm/", {"password": WRONG_PASSWORDS[2]})
        b.post("/settings/sessions/confirm/", {"password": SIGNUP_PASSWORD})
        clock.shift(timedelta(seconds=31))
        code = totp.now()
        secrets.add(code)
        b.post("/settings/sessions/confirm/?factor=code", {"factor": "code", "code": code})

        # Change the password: a wrong current one first.
        for old in (WRONG_PASSWORDS[0], SIGNUP_PASSWORD):
            b.post(
                "/settings/security/password/",
                {
                    "old_password": old,
                    "new_password1": CHANGED_PASSWORD,
                    "new_password2": CHANGED_PASSWORD,
                },
            )
        user.refresh_from_db()
        assert user.check_password(CHANGED_PASSWORD)

        # Turn 2FA off with a backup code (after a wrong TOTP code).
        b.post("/settings/security/2fa/disable/", {"code": wrong_code})
        response = b.post("/settings/security/2fa/disable/", {"code": backup[1]})
        assert response["Location"] == "/settings/security/"
        b.post("/auth/logout/")

        # Forgotten password: the emailed link, then a new password.
        c = browser("203.0.113.62")
        c.post("/auth/password/reset/", {"email": "casey@example.com"})
        reset = path_of([u for u in links(mailoutbox) if "/auth/password/reset/" in u][-1])
        form = c.get(reset)["Location"]
        c.post(form, {"new_password1": RESET_PASSWORD, "new_password2": RESET_PASSWORD})
        user.refresh_from_db()
        assert user.check_password(RESET_PASSWORD)

        # A lockout: six wrong passwords from one address (axes keeps their records).
        d = browser("203.0.113.63")
        for wrong in WRONG_PASSWORDS * 2:
            d.post(LOGIN, {"username": "casey", "password": wrong})
        assert d.post(LOGIN, {"username": "casey", "password": RESET_PASSWORD}).status_code == 429
        # Failures below the limit stay in axes' records (a lockout clears its pair's).
        e = browser("203.0.113.64")
        for wrong in WRONG_PASSWORDS:
            e.post(LOGIN, {"username": "casey", "password": wrong})

    # Every link in every email carried a token.
    for url in links(mailoutbox):
        for part in re.split(r"[/?=&]", path_of(url)):
            if len(part) >= 16:
                secrets.add(part)
    assert len(secrets.long) > 40 and len(secrets.codes) >= 7

    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from audit.models import AuditEvent
    from security.models import Lockout

    events = AuditEvent.objects.all()
    actions = {e.action for e in events}
    assert {
        "signup",
        "email_verified",
        "signin",
        "2fa_setup_started",
        "2fa_enabled",
        "2fa_failed",
        "backup_code_used",
        "backup_codes_regenerated",
        "new_device_code_sent",
        "new_device_code_failed",
        "device_trusted",
        "stepup",
        "password_changed",
        "2fa_disabled",
        "password_reset_requested",
        "password_reset",
        "lockout",
    } <= actions, actions
    attempts = AccessAttempt.objects.filter(ip_address="203.0.113.64")
    assert attempts.get().failures_since_start == len(WRONG_PASSWORDS)
    assert "password" in attempts.get().post_data  # the field is kept, its value masked

    kept = {
        "audit trail": serializers.serialize("json", events),
        "axes attempts": serializers.serialize("json", AccessAttempt.objects.all()),
        "axes failures": serializers.serialize("json", AccessFailureLog.objects.all()),
        "axes log": serializers.serialize("json", AccessLog.objects.all()),
        "lockouts": serializers.serialize("json", Lockout.objects.all()),
        "sent email bodies": "\n".join(
            OutboxEmail.objects.filter(status="sent").values_list("body_text", flat=True)
        ),
    }
    for record in caplog.records:
        kept[f"log {record.name}:{record.lineno}"] = (
            record.getMessage() + repr(record.args) + repr(vars(record))
        )
    assert len(caplog.records) > 20
    leaks = {where: secrets.found_in(text) for where, text in kept.items()}
    assert {where: found for where, found in leaks.items() if found} == {}
