"""Helpers and fixtures for the two-factor tests (imported by the test modules, so they
do not collide with other features' fixtures in security/tests/conftest.py).

pyotp is the authenticator: an implementation independent of django-otp's.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyotp
import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from accounts.models import OutboxEmail
from security.models import EncryptedTOTPDevice
from security.twofactor.backup_codes import issue_new_set

LOGIN_URL = "/auth/login/"
TWO_FACTOR_URL = "/auth/2fa/"


@pytest.fixture(autouse=True)
def _cheap_backup_code_hash(settings):
    # scrypt N=2**14 costs ~40 ms a code; the tests about cost use the real value.
    settings.BACKUP_CODE_SCRYPT_N = 2**8


@pytest.fixture(autouse=True)
def _fresh_rate_limits(db):
    # django-ratelimit counts in the cache (the database cache here), which a test
    # rollback does not always reset.
    cache.clear()
    yield
    cache.clear()


def emails(template: str | None = None) -> list:
    """Emails recorded in the panel's outbox (queued to Celery on commit), oldest first."""
    rows = OutboxEmail.objects.order_by("created_at", "pk")
    if template:
        rows = rows.filter(template=template)
    return list(rows)


@dataclass
class Enrolled:
    user: object
    key: bytes
    codes: list[str]
    device: EncryptedTOTPDevice

    @property
    def authenticator(self) -> pyotp.TOTP:
        return pyotp.TOTP(base64.b32encode(self.key).decode())

    def code(self, at: float | None = None) -> str:
        return self.authenticator.at(time.time() if at is None else at)

    def next_code(self) -> str:
        return self.authenticator.at(time.time() + 30)


def enroll(user, key: bytes | None = None) -> Enrolled:
    """Give ``user`` a confirmed authenticator and backup codes (no views, no email)."""
    key = key or secrets.token_bytes(20)
    device = EncryptedTOTPDevice(user=user, name="Authenticator app", confirmed=True)
    device.set_key(key)
    device.save()
    codes = issue_new_set(user=user)
    return Enrolled(user=user, key=key, codes=codes, device=device)


def sign_in_password(client, login: str, password: str, **extra):
    return client.post(LOGIN_URL, {"username": login, "password": password}, **extra)


def start_two_factor(client, user, password: str):
    """Password step for a user with 2FA: the client is left half-signed-in."""
    response = sign_in_password(client, user.username, password)
    assert response.status_code == 302
    assert response["Location"] == reverse("security:twofactor_signin")
    return response


def submit_code(client, code: str, *, backup: bool = False, **extra):
    if backup:
        return client.post(
            TWO_FACTOR_URL + "?method=backup", {"method": "backup", "code": code}, **extra
        )
    return client.post(TWO_FACTOR_URL, {"method": "totp", "code": code}, **extra)


def race(submit: Callable, args: Sequence = ((), ())) -> list:
    """Run ``submit(*a)`` for each ``a`` in ``args`` at the same moment, one thread each
    (released together by a barrier, each with its own database connection, closed
    after). Returns the results in the order the threads finished."""
    barrier = threading.Barrier(len(args))
    results: list = []
    lock = threading.Lock()

    def run(*a):
        try:
            barrier.wait(timeout=10)
            result = submit(*a)
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=tuple(a)) for a in args]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return results
