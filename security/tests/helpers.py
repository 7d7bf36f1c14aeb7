"""Plain helpers for the security tests: an authenticator (pyotp, independent of
django-otp), clients that look like one browser at one place, sign-in steps, emails and
a tiny GeoIP database (mmdb-writer). Fixtures live in the conftest files."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyotp
from django.db import connection
from django.test import Client
from django.urls import reverse
from netaddr import IPSet

from accounts.models import OutboxEmail
from security.models import EncryptedTOTPDevice
from security.twofactor.backup_codes import issue_new_set

LOGIN_URL = "/auth/login/"
TWO_FACTOR_URL = "/auth/2fa/"


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


CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

# Addresses in the test database (all public, so nothing special-cases them).
LONDON = "81.2.69.160"
MANCHESTER = "81.2.70.10"
PARIS = "90.10.20.30"
NEW_YORK = "3.3.3.3"
SYDNEY = "1.128.0.1"
BERLIN_V6 = "2a02:6b8::1"
UNLISTED = "8.8.4.4"

PLACES = {
    "81.2.69.0/24": ("London", "GB", "United Kingdom", 51.5142, -0.0931),
    "81.2.70.0/24": ("Manchester", "GB", "United Kingdom", 53.4808, -2.2426),
    "90.10.20.0/24": ("Paris", "FR", "France", 48.8566, 2.3522),
    "3.3.3.0/24": ("New York", "US", "United States", 40.7128, -74.0060),
    "1.128.0.0/16": ("Sydney", "AU", "Australia", -33.8688, 151.2093),
    "2a02:6b8::/32": ("Berlin", "DE", "Germany", 52.5200, 13.4050),
}


def write_city_db(path, places=PLACES) -> str:
    from mmdb_writer import MMDBWriter

    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-City",
        languages=["en"],
        description="panel test database",
        int_type="u32",
    )
    for network, (city, code, country, lat, lon) in places.items():
        writer.insert_network(
            IPSet([network]),
            {
                "city": {"names": {"en": city}},
                "country": {"iso_code": code, "names": {"en": country}},
                "location": {"latitude": lat, "longitude": lon},
            },
        )
    writer.to_db_file(str(path))
    return str(path)


def browser(ip: str = "203.0.113.9", ua: str = CHROME_LINUX) -> Client:
    """A test client that looks like one browser at one address."""
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=ua)


def sign_in(client: Client, user, password: str, *, follow: bool = False):
    return client.post(LOGIN_URL, {"username": user.username, "password": password}, follow=follow)


def code_from(mailoutbox, template_marker: str = "enter this code") -> str:
    """The 6-digit code in the newest new-device email."""
    for message in reversed(mailoutbox):
        if template_marker in message.body:
            return re.search(r"^\s+(\d{6})\s*$", message.body, re.M).group(1)
    raise AssertionError("no new-device code email")


def link_from(mailoutbox, label: str) -> str:
    """A link following ``label`` in the newest email that has one (plain-text body)."""
    for message in reversed(mailoutbox):
        match = re.search(rf"{re.escape(label)}.*?\n(https?://\S+)", message.body, re.S)
        if match:
            return match.group(1)
    raise AssertionError(f"no link after {label!r}")


def path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path


def trusted_browser(
    user, password: str, *, ip: str = "203.0.113.9", ua: str = CHROME_LINUX
) -> Client:
    """A client that has signed in through the pipeline once (its device is trusted)."""
    client = browser(ip, ua)
    response = sign_in(client, user, password)
    assert response.status_code == 302 and response["Location"] == "/dashboard/", response
    return client
