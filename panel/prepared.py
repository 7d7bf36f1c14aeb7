"""A lookup that every request makes, with its SQL compiled by the ORM once.

Django compiles a queryset's SQL on every evaluation, and for a one-row lookup that
compilation costs several times the database round trip: the tracked-session read of
every signed-in page (the session's row joined to its user) spent four fifths of its
CPU there. ``PreparedLookup`` asks the ORM for the SQL of the same queryset once per
database connection, then runs that SQL with the new value and builds the instances the
way Django's ``ModelIterable`` does: the compiler's own column list, converters and
``select_related`` populators. The result is what ``queryset.first()`` would return,
which ``panel/tests/test_prepared.py`` checks against the ORM on both test legs.

``all_together((lookup, values), ...)`` runs several lookups in one database round trip
where the connection takes several statements in one execute (psycopg's client-side
binding cursor, Django's default on PostgreSQL), and one after another elsewhere
(SQLite): a page that shows four lists asks once, not four times. On PostgreSQL each
lookup is also prepared on the server once per connection and then executed by name
(see "the statements of all_together prepared on the server" below).

With ``row=`` (a ``NamedTuple`` class), a lookup selects only the row's fields (the
queryset's ``values_list``) and returns one row per result instead of a model instance:
a list shown on a page needs a few columns, and building a model instance (every
column, its signals, its field descriptors) cost several times what the row does.

Only what these lookups need: parameters that are plain values (the build function's
arguments; constants of the queryset such as ``confirmed=True`` stay as compiled), no
annotations, no prefetching, no deferred fields. A queryset outside that is refused when
it is first compiled.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg
import psycopg.sql
from django.db import DatabaseError, connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

_numbers = itertools.count(1)

# The kind of a str argument compared with ``iexact``: the ORM escapes it for backends
# that compare with LIKE (SQLite), and so does the lookup.
IEXACT = "iexact"


def _marker(kind: Any, n: int) -> Any:
    """A value no real lookup uses, to find argument ``n``'s place in the compiled SQL
    (a str marker has no character that LIKE escaping changes)."""
    if kind is datetime:
        return datetime(1901, 1, 1, 0, 0, n, 7, tzinfo=UTC)
    if kind in (str, IEXACT):
        return f"\x1fpanel-prepared-marker-{n}"
    return -7_777_777_700 - n


def _adapt(ops, value: Any) -> Any:
    """A datetime as the ORM sends it to this backend (SQLite: naive UTC text)."""
    if isinstance(value, datetime):
        return ops.adapt_datetimefield_value(value)
    return value


class _Compiled:
    def __init__(self, queryset: QuerySet, alias: str, markers: list, row=None) -> None:
        if row is not None:
            queryset = queryset.values_list(*row._fields)
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        arity = len(markers)
        markers = [str(_adapt(compiler.connection.ops, m)) for m in markers]
        # Each parameter: the index of the argument it takes, or None for a constant.
        self.slots = [markers.index(str(p)) if str(p) in markers else None for p in params]
        self.params = list(params)
        if sorted(s for s in self.slots if s is not None) != list(range(arity)):
            raise ValueError(f"each argument must be used exactly once as a parameter: {params!r}")
        # A row's columns are the values_list's own selected names; nothing else.
        annotations = set(compiler.annotation_col_map) - set(row._fields if row else ())
        if annotations or queryset._prefetch_related_lookups:
            raise ValueError("a prepared lookup has no annotations and no prefetching")
        self.sql = sql
        self.compiler = compiler
        self.row = row
        self.server: tuple[str, str] | None = None  # all_together's PREPARE, once made
        self.width = compiler.col_count  # the columns of the SQL's select list
        select = compiler.select
        self.converters = compiler.get_converters(
            [column[0] for column in select[: compiler.col_count]]
        )
        if row is not None:
            self.model = None
            return
        klass_info = compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.pk_index = self.init_list.index(self.model._meta.pk.attname)
        self.related = get_related_populators(klass_info, select, alias)


class PreparedLookup:
    """``PreparedLookup(Model, lambda pk: Model.objects.filter(pk=pk)...)`` then
    ``lookup.first(pk)`` (the first instance or None) or ``lookup.all(pk)`` (a list);
    ``kinds`` names each argument's type when they are not one int; ``row``, a
    ``NamedTuple`` class whose fields are the model's (attnames: ``user_id``), makes it
    answer rows of those columns instead of instances (see the module).
    Arguments go to the database as they are (an int, a str; a datetime is adapted as
    the ORM does): no other field conversion, so pass what the column holds (a primary
    key, not an instance)."""

    def __init__(
        self,
        model: type[Model],
        build: Callable[..., QuerySet],
        kinds: tuple[Any, ...] = (int,),
        *,
        row: type[tuple] | None = None,
    ) -> None:
        self.model = model
        self.row = row
        self.build = build
        # The type of each argument (int, str, datetime or IEXACT): its marker is of that
        # type, and an IEXACT argument is escaped as the ORM escapes it.
        self.kinds = kinds
        self.arity = len(kinds)
        # Arguments that go to the database as they are (no datetime, no IEXACT).
        self.plain = all(kind is not datetime and kind != IEXACT for kind in kinds)
        # Unique for the process (not id(): a collected lookup's id can come back), it
        # names the compiled SQL kept on each connection and the server's statement.
        self.number = next(_numbers)
        self.attribute = f"_panel_prepared_{self.number}"

    def _compiled(self, alias: str) -> _Compiled:
        connection = connections[alias]
        # Kept on the connection object (one per thread and alias), with its compiler.
        compiled = getattr(connection, self.attribute, None)
        if compiled is None:
            markers = [_marker(kind, n) for n, kind in enumerate(self.kinds)]
            compiled = _Compiled(self.build(*markers), alias, markers, self.row)
            setattr(connection, self.attribute, compiled)
        return compiled

    def arguments(self, alias: str, values: tuple) -> tuple:
        """``values`` as they go to the database: a datetime adapted, an ``IEXACT`` string
        escaped, as the ORM does for this backend. A lookup whose kinds are all plain
        (int, str) sends them as they are: its kinds say no datetime is among them."""
        if len(values) != self.arity:
            raise TypeError(f"this lookup takes {self.arity} arguments, got {len(values)}")
        if self.plain:
            return values  # nothing to adapt (a view's batch: a sixth of its cost was here)
        ops = connections[alias].ops
        return tuple(
            ops.prep_for_iexact_query(value) if kind == IEXACT else _adapt(ops, value)
            for kind, value in zip(self.kinds, values, strict=True)
        )

    def statement(self, alias: str, values: tuple) -> tuple[_Compiled, str, list]:
        """The compiled lookup, its SQL and its parameters for ``values``."""
        values = self.arguments(alias, values)
        compiled = self._compiled(alias)
        params = [
            compiled.params[i] if slot is None else values[slot]
            for i, slot in enumerate(compiled.slots)
        ]
        return compiled, compiled.sql, params

    def _rows(self, values: tuple, one: bool) -> tuple[str, _Compiled, list]:
        alias = router.db_for_read(self.model)
        compiled, sql, params = self.statement(alias, values)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            rows = [cursor.fetchone()] if one else cursor.fetchall()
        return alias, compiled, [row for row in rows if row is not None]

    def build_one(self, alias: str, compiled: _Compiled, row: tuple) -> Model | None:
        """The instance of one row of this lookup's columns (``statement``'s SQL run
        inside another query), or None when they are all NULL (a LEFT JOIN's no row)."""
        if compiled.row is not None:
            raise TypeError("build_one builds instances, not rows")
        if row[compiled.start + compiled.pk_index] is None:
            return None
        return self._build(alias, compiled, [row])[0]

    def _build(self, alias: str, compiled: _Compiled, rows: list) -> list[Model]:
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        if compiled.row is not None:
            return list(map(compiled.row._make, rows))
        found = []
        for row in rows:
            obj = compiled.model.from_db(
                alias, compiled.init_list, row[compiled.start : compiled.end]
            )
            for populator in compiled.related:
                populator.populate(row, obj)
            found.append(obj)
        return found

    def first(self, *values: Any) -> Model | None:
        alias, compiled, rows = self._rows(values, one=True)
        found = self._build(alias, compiled, rows)
        return found[0] if found else None

    def all(self, *values: Any) -> list[Model]:
        alias, compiled, rows = self._rows(values, one=False)
        return self._build(alias, compiled, rows)


def together(alias: str, lookups) -> tuple[list[_Compiled], str, list]:
    """The statements of ``lookups`` as one SQL text and its parameters."""
    statements = [lookup.statement(alias, values) for lookup, values in lookups]
    return (
        [compiled for compiled, _, _ in statements],
        ";\n".join(sql for _, sql, _ in statements),
        [param for _, _, params in statements for param in params],
    )


def all_together(*lookups: tuple[PreparedLookup, tuple]) -> list[list[Model]]:
    """``[lookup.all(*values) for lookup, values in lookups]``, in one round trip when the
    database connection allows it (see the module). The lookups read one database."""
    aliases = {router.db_for_read(lookup.model) for lookup, _ in lookups}
    if len(aliases) != 1:
        raise ValueError(f"all_together reads one database, not {sorted(aliases)}")
    alias = aliases.pop()
    connection = connections[alias]
    if len(lookups) < 2 or connection.vendor != "postgresql":
        return [lookup.all(*values) for lookup, values in lookups]
    with connection.cursor() as cursor:
        if not isinstance(cursor.cursor, psycopg.ClientCursor):
            # Server-side binding (OPTIONS server_side_binding) takes one statement.
            return [lookup.all(*values) for lookup, values in lookups]
        prepared = _prepared_on(connection)
        if prepared is not None:
            try:
                return _executed(cursor, alias, lookups, prepared)
            except DatabaseError:
                # Never again on this connection (a pooler that drops prepared statements,
                # a name taken): its statements are sent whole from now on.
                _send_whole(connection)
                if connection.in_atomic_block:
                    raise
        every, sql, params = together(alias, lookups)
        cursor.execute(sql, params)
        return _results(cursor, alias, lookups, every, skip=0)


# --- PostgreSQL: the statements of all_together prepared on the server --------------------
#
# The statements are sent as text and PostgreSQL parses and plans each one again on every
# execute: for the Security tab's four, about 0.6 ms of the server's CPU a view, on the
# machine that also runs the web processes (more than the tab's whole round trip costs
# the client). Each lookup is therefore PREPAREd once per database connection (its
# constants written in as literals, quoted by psycopg as the client-side cursor quotes
# them on every execute; its arguments ``$1``..) and then run with ``EXECUTE name(...)``:
# the server reuses the parse and, once it judges the generic plan as good, the plan. The
# PREPAREs go in front of the first batch that needs them, in the same execute (one
# round trip, one query as the tests count them); a prepared statement outlives a
# rolled-back transaction, and the connection remembers which names it holds. An error
# on that path turns it off for the connection (statements sent whole, as before).

_SERVER_TYPES = {int: "bigint", str: "text", IEXACT: "text", datetime: "timestamptz"}


def _prepared_on(connection) -> set[str] | None:
    """The names prepared on ``connection``'s current database connection, or None when
    this connection sends its statements whole."""
    return _kept_on(connection)[1]


def _kept_on(connection) -> tuple:
    """``(database connection, names prepared or None, batches written)``: what
    ``connection``'s current database connection holds; a new one starts afresh. The
    batches live beside the names, so that they are forgotten together."""
    kept = getattr(connection, "_panel_prepared_on", None)
    if kept is None or kept[0] is not connection.connection:
        kept = (connection.connection, set(), {})
        connection._panel_prepared_on = kept
    return kept


def _send_whole(connection) -> None:
    """``connection``'s current database connection prepares nothing from now on."""
    connection._panel_prepared_on = (connection.connection, None, {})


def _server_statement(lookup: PreparedLookup, compiled: _Compiled, pgconn) -> tuple[str, str]:
    """``(name, "PREPARE name (types) AS ...")`` for ``lookup``, written once."""
    if compiled.server is None:
        parts, n = [], 0
        for part in re.split(r"(%%|%s)", compiled.sql):
            if part != "%s":
                parts.append(part)  # SQL, or "%%": a percent sign for the cursor's pass
                continue
            slot = compiled.slots[n]
            if slot is None:  # a constant of the queryset, quoted once
                literal = psycopg.sql.Literal(compiled.params[n]).as_string(pgconn)
                parts.append(literal.replace("%", "%%"))
            else:
                parts.append(f"${slot + 1}")
            n += 1
        name = f"panel_prepared_{lookup.number}"
        # The argument types as _marker treats them: anything else is an int.
        types = ", ".join(_SERVER_TYPES.get(kind, "bigint") for kind in lookup.kinds)
        compiled.server = (name, f"PREPARE {name} ({types}) AS {''.join(parts)}")
    return compiled.server


def _executed(cursor, alias: str, lookups, prepared: set[str]) -> list[list]:
    connection = connections[alias]
    # The batch's EXECUTE text and compiled lookups, once its statements are prepared on
    # this connection (kept beside the names): written for each view it was a sixth of
    # the batch's cost.
    batches = _kept_on(connection)[2]
    key = tuple(lookup.number for lookup, _ in lookups)
    batch = batches.get(key)
    if batch is None:
        pgconn = connection.connection
        every, prepares, executes, names = [], [], [], []
        for lookup, _ in lookups:
            compiled = lookup._compiled(alias)
            name, prepare = _server_statement(lookup, compiled, pgconn)
            if name not in prepared and name not in names:
                prepares.append(prepare)
                names.append(name)
            every.append(compiled)
            executes.append(f"EXECUTE {name}({', '.join(['%s'] * lookup.arity)})")
        if prepares:
            params = [arg for lookup, values in lookups for arg in lookup.arguments(alias, values)]
            cursor.execute(";\n".join(prepares + executes), params)
            prepared.update(names)
            return _results(cursor, alias, lookups, every, skip=len(prepares))
        batch = batches[key] = (";\n".join(executes), every)
    sql, every = batch
    params = [arg for lookup, values in lookups for arg in lookup.arguments(alias, values)]
    cursor.execute(sql, params)
    return _results(cursor, alias, lookups, every, skip=0)


def _results(cursor, alias: str, lookups, every: list[_Compiled], skip: int) -> list[list]:
    """Each lookup's rows, from the execute's results in order (after ``skip`` results
    of statements that return none)."""
    for _ in range(skip):
        cursor.nextset()
    results = []
    for n, ((lookup, _), compiled) in enumerate(zip(lookups, every, strict=True)):
        if n and not cursor.nextset():
            raise RuntimeError("a statement of all_together returned no result")
        results.append(lookup._build(alias, compiled, cursor.fetchall()))
    return results
