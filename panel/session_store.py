"""Django's database session store, reading the session row with one prepared statement.

Every signed-in request reads its session row. Django's store reads it through the ORM
(``Session.objects.get(session_key=..., expire_date__gt=now)``), whose SQL compilation
costs about three times the database round trip's own CPU on this machine. This store
runs the same SELECT written once: the same table, the same two conditions, the datetime
adapted for the backend as the ORM does (``adapt_datetimefield_value``). Writing,
deleting, expiry and the cleanup command stay Django's, and so does the table
(``django.contrib.sessions``): sessions are where they always were.

The same query reads, in the same round trip:
- the current generations (panel.generations) for the request;
- the rows that apps ask to have read along with the session (``read_along``): a
  ``PreparedLookup`` whose arguments come from the session key, LEFT JOINed as a derived
  table of at most one row. The session tracking reads its row (and the user) this way:
  every signed-in page makes one query for both. What was read is in ``store.along``;
  a lookup whose row is missing there is the app's to make (it checks what it got).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router
from django.utils import timezone

from . import generations
from .models import Generation
from .prepared import PreparedLookup

# name -> (lookup, the lookup's arguments from the session key)
_along: dict[str, tuple[PreparedLookup, Callable[[str], tuple]]] = {}


def read_along(name: str, lookup: PreparedLookup, arguments: Callable[[str], tuple]) -> None:
    """Read ``lookup(*arguments(session_key))``'s first row in the session's query; the
    instance (or None) is then ``request.session.along[name]``. The lookup must return
    one row at most (sliced ``[:1]``)."""
    _along[name] = (lookup, arguments)


class SessionStore(DatabaseSessionStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self.along: dict[str, object] = {}

    def _select(self, connection) -> tuple[tuple[str, ...], str]:
        """The read-along names and the SQL that reads them. Written once per connection
        (one per thread and alias), and again if a lookup was registered since."""
        names = tuple(_along)
        written = getattr(connection, "_panel_session_select", None)
        if written is None or written[0] != names:
            written = (names, self._write_select(connection, names))
            connection._panel_session_select = written
        return written

    def _write_select(self, connection, names: tuple[str, ...]) -> str:
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
        joins = ""
        for n, along in enumerate(names):
            lookup, _ = _along[along]
            compiled = lookup._compiled(connection.alias)
            current += f", {quote(f'along{n}')}.*"
            joins += f" LEFT JOIN ({compiled.sql}) {quote(f'along{n}')} ON 1 = 1"
        # Names from the models, quoted by the backend; the values are parameters.
        return (
            f"SELECT {data}, {expire}{current} FROM {quote(meta.db_table)}{joins} "  # noqa: S608
            f"WHERE {key} = %s AND {expire} > %s"
        )

    def _get_session_from_db(self):
        alias = router.db_for_read(self.model)
        connection = connections[alias]
        names, sql = self._select(connection)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        params = list(generations.NAMES)
        statements = []
        for along in names:
            lookup, arguments = _along[along]
            compiled, _, lookup_params = lookup.statement(alias, arguments(self.session_key))
            statements.append((along, lookup, compiled))
            params += lookup_params
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        offset = 2 + len(generations.NAMES)
        generations.read_with_session(dict(zip(generations.NAMES, row[2:offset], strict=True)))
        for along, lookup, compiled in statements:
            part = row[offset : offset + compiled.width]
            offset += compiled.width
            self.along[along] = lookup.build_one(alias, compiled, part)
        # Only session_data is read from it (load()); the expiry is the column's own.
        return self.model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
