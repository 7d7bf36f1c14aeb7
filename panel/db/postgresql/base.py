"""Django's PostgreSQL backend, with a connection health check that costs no round trip
while the connection is evidently fine.

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
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
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
