"""Django's database session store, reading the session row with one prepared statement.

Every signed-in request reads its session row. Django's store reads it through the ORM
(``Session.objects.get(session_key=..., expire_date__gt=now)``), whose SQL compilation
costs about three times the database round trip's own CPU on this machine. This store
runs the same SELECT written once: the same table, the same two conditions, the datetime
adapted for the backend as the ORM does (``adapt_datetimefield_value``). Writing,
deleting, expiry and the cleanup command stay Django's, and so does the table
(``django.contrib.sessions``): sessions are where they always were.

The same query reads the current generations (panel.generations) for the request.
"""

from __future__ import annotations

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from . import generations
from .models import Generation


class SessionStore(DatabaseSessionStore):
    # A store is made per request: the statement is written once per database alias.
    _selects: dict[str, str] = {}

    def _select(self, alias: str) -> str:
        select = self._selects.get(alias)
        if select is None:
            select = self._selects[alias] = self._write_select(connections[alias])
        return select

    def _write_select(self, connection) -> str:
        meta = self.model._meta
        quote = connection.ops.quote_name
        data, expire, key = (
            quote(meta.get_field(name).column)
            for name in ("session_data", "expire_date", "session_key")
        )
        gen = Generation._meta
        value, name = (quote(gen.get_field(field).column) for field in ("value", "name"))
        current = "".join(
            f", (SELECT {value} FROM {quote(gen.db_table)} WHERE {name} = %s)"  # noqa: S608
            for _ in generations.NAMES
        )
        # Names from the models, quoted by the backend; the values are parameters.
        return (
            f"SELECT {data}, {expire}{current} FROM {quote(meta.db_table)} "  # noqa: S608
            f"WHERE {key} = %s AND {expire} > %s"
        )

    def _get_session_from_db(self):
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(self._select(alias), [*generations.NAMES, self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        generations.read_with_session(dict(zip(generations.NAMES, row[2:], strict=True)))
        # Only session_data is read from it (load()); the expiry is the column's own.
        return self.model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
