"""The Security tab's lists read in one round trip (security.overview) on PostgreSQL, in a
statement psycopg parses once per process (services leg)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from security import overview

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def test_the_lists_are_one_statement_psycopg_keeps_parsed(alice):
    """psycopg's client-side cursor parses a statement's placeholders on each execute,
    keeping the parse only for statements up to MAX_CACHED_STATEMENT_LENGTH characters:
    a few columns more in one of the four lookups would make every Security tab pay the
    parse again (a twentieth of its CPU)."""
    from psycopg import _queries

    from panel.prepared import together

    with CaptureQueriesContext(connection) as queries:
        read = overview.read(alice)
    assert len(queries) == 1
    assert read.two_factor["enabled"] is False and read.trusted == []
    _, sql, params = together("default", overview.lookups(alice))
    assert len(overview.lookups(alice)) == 4  # the activity too: alice has both logins
    assert len(sql) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(params) <= _queries.MAX_CACHED_STATEMENT_PARAMS
