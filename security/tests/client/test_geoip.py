"""GeoIP lookups: known, unknown, IPv6, IPv4-mapped, the shipped database, a missing one."""

from __future__ import annotations

import logging

import pytest

from security.client import geoip
from security.tests.helpers import BERLIN_V6, LONDON, UNLISTED


@pytest.fixture(autouse=True)
def _fresh_reader():
    geoip.reset()
    yield
    geoip.reset()


@pytest.mark.usefixtures("geo_db")
def test_a_known_ipv4_address_has_a_city_and_country():
    place = geoip.lookup(LONDON)
    assert (place.city, place.country, place.country_code) == ("London", "United Kingdom", "GB")
    assert place.label == "London, United Kingdom"
    assert place.latitude == pytest.approx(51.5142)


@pytest.mark.usefixtures("geo_db")
def test_an_ipv6_address_is_located():
    place = geoip.lookup(BERLIN_V6)
    assert (place.city, place.country_code) == ("Berlin", "DE")


@pytest.mark.usefixtures("geo_db")
def test_an_ipv4_mapped_ipv6_address_is_located_as_the_ipv4_address():
    assert geoip.lookup(f"::ffff:{LONDON}").city == "London"


@pytest.mark.usefixtures("geo_db")
def test_an_unlisted_address_is_unknown():
    place = geoip.lookup(UNLISTED)
    assert place == geoip.UNKNOWN
    assert place.label == "Unknown"
    assert not place.known


@pytest.mark.usefixtures("geo_db")
@pytest.mark.parametrize("value", ["", None, "not-an-ip", "999.1.1.1", "127.0.0.1", "10.1.2.3"])
def test_invalid_and_private_addresses_are_unknown(value):
    assert geoip.lookup(value) == geoip.UNKNOWN


def test_a_missing_database_gives_unknown_and_warns_once(settings, tmp_path, caplog):
    settings.GEOIP_PATH = str(tmp_path / "nowhere.mmdb")
    with caplog.at_level(logging.WARNING, logger="security.client.geoip"):
        assert geoip.lookup(LONDON) == geoip.UNKNOWN
        assert geoip.lookup(LONDON) == geoip.UNKNOWN
        assert not geoip.available()
    warnings = [r for r in caplog.records if r.name == "security.client.geoip"]
    assert len(warnings) == 1
    assert "GeoIP database unavailable" in warnings[0].getMessage()


def test_an_unreadable_database_file_gives_unknown(settings, tmp_path):
    broken = tmp_path / "broken.mmdb"
    broken.write_bytes(b"this is not a MaxMind database" * 10)
    settings.GEOIP_PATH = str(broken)
    assert geoip.lookup(LONDON) == geoip.UNKNOWN
    assert not geoip.available()


@pytest.mark.usefixtures("geo_db")
def test_the_reader_is_opened_once_and_reopened_when_the_path_changes(settings, tmp_path):
    from security.tests.helpers import write_city_db

    first = geoip._reader()
    assert geoip._reader() is first
    settings.GEOIP_PATH = write_city_db(
        tmp_path / "other.mmdb", {"81.2.69.0/24": ("Leeds", "GB", "United Kingdom", 53.8, -1.5)}
    )
    assert geoip._reader() is not first
    assert geoip.lookup(LONDON).city == "Leeds"


def test_the_default_is_the_geolite2_database_shipped_with_maxminddb_geolite2(settings):
    from _maxminddb_geolite2 import geolite2_database

    from panel.settings import base

    assert geolite2_database() == base.GEOIP_PATH
    settings.GEOIP_PATH = base.GEOIP_PATH
    assert geoip.available()
    # A well-known, stable allocation: an address of the UK's JANET network (2018 data).
    assert geoip.lookup("81.2.69.160").country_code == "GB"


def test_the_footer_credits_maxmind(client):
    response = client.get("/auth/login/")
    body = response.content.decode()
    assert "This product includes GeoLite2 data created by MaxMind" in body
    assert 'href="https://www.maxmind.com"' in body
