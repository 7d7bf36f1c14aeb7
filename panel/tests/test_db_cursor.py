"""panel.db.postgresql.CursorWrapper: Django's cursor wrapper with its fetches as methods,
on a real PostgreSQL (services leg): the same rows, the same errors, the same wrappers."""

from __future__ import annotations

import pytest
from django.db import ProgrammingError, connection
from django.db.backends.postgresql.base import CursorDebugWrapper
from django.test.utils import CaptureQueriesContext

from panel.db.postgresql.base import CursorWrapper

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def test_a_cursor_that_logs_nothing_is_the_panels_and_a_logging_one_djangos():
    with connection.cursor() as cursor:
        assert type(cursor) is CursorWrapper
    with CaptureQueriesContext(connection), connection.cursor() as cursor:
        assert type(cursor) is CursorDebugWrapper


def test_every_fetch_and_nextset_answers_what_psycopg_answers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n FROM generate_series(1, 5) n; SELECT %s::text; SELECT 7 WHERE false",
            ["two"],
        )
        assert cursor.fetchone() == (1,)
        assert cursor.fetchmany(2) == [(2,), (3,)]
        assert cursor.fetchmany() == [(4,)]
        assert cursor.fetchall() == [(5,)]
        assert cursor.nextset() is True
        assert cursor.fetchall() == [("two",)]
        assert cursor.nextset() is True
        assert cursor.fetchone() is None
        assert cursor.nextset() is None


def test_a_fetch_that_fails_raises_djangos_error_and_marks_the_connection():
    connection.errors_occurred = False
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = 0")  # no result to fetch
        with pytest.raises(ProgrammingError):  # django.db's, not psycopg's
            cursor.fetchall()
    assert connection.errors_occurred is True
    connection.errors_occurred = False


def test_execute_wrappers_still_see_every_statement():
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 2")
    assert seen == ["SELECT 1"]
