"""Helpers and fixtures for the sessions, devices and suspicious sign-in tests.

A tiny GeoIP City database is written with mmdb-writer for each test that needs one;
clients look like different browsers and places through REMOTE_ADDR and HTTP_USER_AGENT.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from netaddr import IPSet

from security.client import geoip

LOGIN_URL = "/auth/login/"

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


@pytest.fixture
def geo_db(tmp_path, settings):
    """GEOIP_PATH points at a fresh test database (the cached reader is reset)."""
    settings.GEOIP_PATH = write_city_db(tmp_path / "test-city.mmdb")
    yield settings.GEOIP_PATH
    geoip.reset()


@pytest.fixture
def emails_sent_at_once(monkeypatch, db):
    """Emails are queued on commit, which a test's transaction never reaches: send them
    at once (Celery is eager in tests) so ``mailoutbox`` shows them. Also start with no
    rate-limit counters (the database cache)."""
    from types import SimpleNamespace

    from django.core.cache import cache

    import accounts.emails

    monkeypatch.setattr(
        accounts.emails, "transaction", SimpleNamespace(on_commit=lambda func, **kwargs: func())
    )
    cache.clear()
    yield
    cache.clear()


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
