"""Django's PostgreSQL backend, with a connection health check that costs no round trip
while the connection is evidently fine, timestamps read by psycopg's C loader, and a
cursor wrapper whose fetches are methods (``CursorWrapper``).

With ``CONN_HEALTH_CHECKS`` Django checks a persistent connection before its first use in
each request by sending ``SELECT 1``: one more database round trip on every request, so
that a connection the server ended (a restart, an administrator's kill, an idle timeout)
is replaced instead of failing the request with a 500.

A PostgreSQL server that ends a connection tells the client: it sends a FATAL error and
closes the socket, so the idle connection's socket becomes readable. An idle connection
(no query running, no transaction open) has nothing else to read, except a NOTIFY the
panel never LISTENs for. So: when libpq holds the connection as good and idle and its
socket has nothing to read, it is usable without asking the server; in any other case
Django's ``SELECT 1`` decides, as before. ``panel/tests/test_database_down.py`` restarts
a real PostgreSQL under a running server and proves the first request after it works.

Timestamps: Django reads each ``timestamptz`` with a subclass of psycopg's pure-Python
loader (it adds the connection's time zone), which parses the text with a regular
expression in Python: on the Security tab, with its dozen trusted browsers and their
dates, that parsing was a twentieth of the page's CPU. Django keeps its connections in
UTC (``USE_TZ``, no ``TIME_ZONE`` for the database), and psycopg's C loader already
answers timestamps of a UTC connection with ``datetime.timezone.utc``, the value
Django's loader gives; so when Django's zone is UTC the C loader reads them
(``panel/tests/test_db_timestamps.py`` compares the two on the services leg).
"""

from __future__ import annotations

import datetime
import select
from functools import lru_cache

import psycopg
from django.db.backends import utils
from django.db.backends.postgresql import base
from psycopg import adapt, pq
from psycopg.pq import Format

TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid
# The C implementation when psycopg[binary] or psycopg[c] is installed, else Python's.
_FAST_TIMESTAMPTZ = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)


class UTCTimestamptzLoader(adapt.Loader):
    """psycopg's own timestamptz loader (C when compiled), with the ``timezone`` that
    Django's ``create_cursor`` compares with the connection's zone (UTC: no per-cursor
    loader). The C class cannot be subclassed: each instance calls one."""

    timezone = datetime.UTC

    def __init__(self, oid: int, context=None) -> None:
        super().__init__(oid, context)
        self._loader = _FAST_TIMESTAMPTZ(oid, context)
        self.load = self._loader.load  # C to C: no Python call per timestamp

    def load(self, data):  # what the instance attribute above replaces
        return self._loader.load(data)


@lru_cache
def _with_fast_timestamps(context: adapt.AdaptersMap) -> adapt.AdaptersMap:
    """Django's adapters (one map per setting, cached by Django) with the loader above."""
    adapters = adapt.AdaptersMap(context)
    adapters.register_loader("timestamptz", UTCTimestamptzLoader)
    return adapters


class CursorWrapper(utils.CursorWrapper):
    """Django's cursor wrapper with its fetches and ``nextset`` as methods: Django's
    reaches them through ``__getattr__``, which builds a new error-wrapping function at
    each call (a tenth of the Security tab's database read, four results a view). The
    same wrapping (``wrap_database_errors``: psycopg's errors raised as Django's, the
    connection marked as having had errors); ``execute`` skips the wrappers' chain when
    none is installed (``connection.execute_wrapper``: Django's own call then)."""

    def fetchone(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchmany(self, size=None):
        with self.db.wrap_database_errors:
            return self.cursor.fetchmany() if size is None else self.cursor.fetchmany(size)

    def fetchall(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchall()

    def nextset(self):
        with self.db.wrap_database_errors:
            return self.cursor.nextset()

    def execute(self, sql, params=None):
        if self.db.execute_wrappers:
            return super().execute(sql, params)
        return self._execute(sql, params)


class DatabaseWrapper(base.DatabaseWrapper):
    def make_cursor(self, cursor) -> CursorWrapper:
        """The cursor of a connection that does not log its queries (the debug one,
        ``CursorDebugWrapper``, is Django's, unchanged)."""
        return CursorWrapper(cursor, self)

    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        # Only when Django reads timestamps in UTC (USE_TZ, no database TIME_ZONE): the
        # connection is set to UTC, and the C loader's zone is then Django's.
        if params.get("context") is not None and self.timezone is datetime.UTC:
            params["context"] = _with_fast_timestamps(params["context"])
        return params

    def is_usable(self) -> bool:
        if self.connection is None:
            return False
        if idle_and_quiet(self.connection.pgconn):
            return True
        return super().is_usable()


def idle_and_quiet(pgconn) -> bool:
    """True when libpq holds the connection as good and idle and the server has sent
    nothing since its last answer."""
    try:
        if pgconn.status != pq.ConnStatus.OK:
            return False
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            return False
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN)
        events = poller.poll(0)
    except (OSError, ValueError, psycopg.Error):
        return False
    return not events
