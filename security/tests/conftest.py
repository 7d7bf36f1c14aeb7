"""Fixtures of every security test: cheap backup-code hashing, fresh rate-limit
counters, a GeoIP test database, emails sent at once."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from security.client import geoip
from security.tests.helpers import write_city_db


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


@pytest.fixture
def geo_db(tmp_path, settings):
    """GEOIP_PATH points at a fresh test database (the cached reader is reset)."""
    settings.GEOIP_PATH = write_city_db(tmp_path / "test-city.mmdb")
    yield settings.GEOIP_PATH
    geoip.reset()
