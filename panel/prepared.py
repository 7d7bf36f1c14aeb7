"""A lookup that every request makes, with its SQL compiled by the ORM once.

Django compiles a queryset's SQL on every evaluation, and for a one-row lookup that
compilation costs several times the database round trip: the tracked-session read of
every signed-in page (the session's row joined to its user) spent four fifths of its
CPU there. ``PreparedLookup`` asks the ORM for the SQL of the same queryset once per
database connection, then runs that SQL with the new value and builds the instances the
way Django's ``ModelIterable`` does: the compiler's own column list, converters and
``select_related`` populators. The result is what ``queryset.first()`` would return,
which ``panel/tests/test_prepared.py`` checks against the ORM on both test legs.

Only what these lookups need: one parameter, no annotations, no prefetching, no
deferred fields. A queryset outside that is refused when it is first compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# A value no real lookup uses, to find the parameter's place in the compiled SQL.
_MARKER = -7_777_777_777


class _Compiled:
    def __init__(self, queryset: QuerySet, alias: str) -> None:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        if len(params) != 1 or str(params[0]) != str(_MARKER):
            raise ValueError(f"a prepared lookup takes exactly one parameter, got {params!r}")
        if compiler.annotation_col_map or queryset._prefetch_related_lookups:
            raise ValueError("a prepared lookup has no annotations and no prefetching")
        self.sql = sql
        self.compiler = compiler
        klass_info = compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        select = compiler.select
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.related = get_related_populators(klass_info, select, alias)
        self.converters = compiler.get_converters(
            [column[0] for column in select[: compiler.col_count]]
        )


class PreparedLookup:
    """``PreparedLookup(Model, lambda value: Model.objects.filter(pk=value)...)`` then
    ``lookup.first(value)``: the first instance or None. The value is passed to the
    database as it is (an int, a str): no field conversion."""

    def __init__(self, model: type[Model], build: Callable[[Any], QuerySet]) -> None:
        self.model = model
        self.build = build
        self.attribute = f"_panel_prepared_{id(self)}"

    def _compiled(self, alias: str) -> _Compiled:
        connection = connections[alias]
        # Kept on the connection object (one per thread and alias), with its compiler.
        compiled = getattr(connection, self.attribute, None)
        if compiled is None:
            compiled = _Compiled(self.build(_MARKER), alias)
            setattr(connection, self.attribute, compiled)
        return compiled

    def first(self, value: Any) -> Model | None:
        alias = router.db_for_read(self.model)
        compiled = self._compiled(alias)
        with connections[alias].cursor() as cursor:
            cursor.execute(compiled.sql, [value])
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            row = next(compiled.compiler.apply_converters([row], compiled.converters))
        obj = compiled.model.from_db(alias, compiled.init_list, row[compiled.start : compiled.end])
        for populator in compiled.related:
            populator.populate(row, obj)
        return obj
