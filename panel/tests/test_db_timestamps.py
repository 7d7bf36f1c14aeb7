"""panel.db.postgresql reads timestamps with psycopg's C loader: the same values, with the
same ``datetime.timezone.utc``, as Django's own loader (services leg: a real PostgreSQL)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg.pq import Format

from panel.db.postgresql.base import TIMESTAMPTZ_OID, UTCTimestamptzLoader

pytestmark = [pytest.mark.services, pytest.mark.django_db]

VALUES = """SELECT now(), NULL::timestamptz,
    '0001-01-01 00:00:00+00'::timestamptz, '9999-12-31 23:59:59.999999+00'::timestamptz,
    '1970-01-01 00:00:00.000001+00'::timestamptz, '2026-03-29 01:30:00.5+02'::timestamptz,
    '2026-10-25 01:30:00-11:30'::timestamptz, '1899-12-31 23:59:59.9+00'::timestamptz,
    '2024-02-29 12:00:00.123456+00'::timestamptz"""


def read(loader: type | None) -> tuple:
    with connection.cursor() as cursor:
        if loader is not None:
            cursor.cursor.adapters.register_loader("timestamptz", loader)
        cursor.execute(VALUES)
        return cursor.fetchone()


def djangos_loader() -> type:
    class DjangoUTCLoader(BaseTzLoader):  # what Django registers for USE_TZ in UTC
        timezone = datetime.UTC

    return DjangoUTCLoader


def test_the_connections_read_timestamps_with_the_fast_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
    assert loader is UTCTimestamptzLoader


def test_the_fast_loader_reads_what_djangos_reads():
    ours, djangos = read(None), read(djangos_loader())
    assert ours == djangos
    assert ours[1] is None
    for value in (v for v in ours if v is not None):
        assert value.tzinfo is datetime.UTC
    assert ours[5] == datetime.datetime(2026, 3, 28, 23, 30, 0, 500000, tzinfo=datetime.UTC)
    assert ours[3].microsecond == 999999


def test_a_model_keeps_its_microseconds_and_zone(alice):
    from accounts.models import User

    moment = datetime.datetime(2026, 11, 30, 12, 34, 56, 789012, tzinfo=datetime.UTC)
    User.objects.filter(pk=alice.pk).update(last_login=moment)
    assert User.objects.get(pk=alice.pk).last_login == moment


def test_a_bad_timestamp_still_raises_as_djangos_loader_does():
    with connection.cursor() as cursor:
        for loader in (None, djangos_loader()):
            if loader is not None:
                cursor.cursor.adapters.register_loader("timestamptz", loader)
            cursor.execute("SELECT 'infinity'::timestamptz")
            with pytest.raises(Exception, match="infinity|too large|out of range"):
                cursor.fetchone()
