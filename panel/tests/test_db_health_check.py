"""panel.db.postgresql: the connection health check asks the server only when the
connection's socket says something happened (services leg: a real PostgreSQL, whose
pg_stat_activity shows what each connection last sent).

The restart of a whole server under a running panel is panel/tests/test_database_down.py."""

from __future__ import annotations

import time

import pytest
from django.db import connection, connections

from panel.db.postgresql.base import DatabaseWrapper

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture
def wrapper():
    """A connection of its own (not the test's transaction), with Django's settings."""
    assert isinstance(
        connections["default"], DatabaseWrapper
    )  # the panel's backend is the one in use
    own = DatabaseWrapper({**connection.settings_dict}, alias="health_check_test")
    own.connect()
    own.connection.execute("SELECT 'health check marker'")
    yield own
    own.close()


def last_query_of(own: DatabaseWrapper) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s", [own.connection.info.backend_pid]
        )
        row = cursor.fetchone()
    return row[0] if row else None


def test_an_idle_connection_is_usable_without_a_round_trip(wrapper):
    assert wrapper.is_usable() is True
    assert last_query_of(wrapper) == "SELECT 'health check marker'"  # no SELECT 1 sent


def test_a_connection_the_server_ended_is_found_unusable(wrapper):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [wrapper.connection.info.backend_pid])
    deadline = time.monotonic() + 5
    while wrapper.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the FATAL message and the close arrive a moment later
    assert wrapper.is_usable() is False
    wrapper.health_check_enabled, wrapper.health_check_done = True, False  # a new request
    wrapper.close_if_health_check_failed()
    assert wrapper.connection is None  # Django drops it and connects afresh


def test_inside_a_transaction_the_server_is_asked(wrapper):
    wrapper.connection.execute("BEGIN")
    assert wrapper.is_usable() is True
    assert last_query_of(wrapper) == "SELECT 1"
    wrapper.connection.execute("ROLLBACK")
