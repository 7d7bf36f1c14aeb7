"""panel.prepared.PreparedLookup returns what the ORM returns for the same queryset, with
the ORM's SQL compiled once (both legs: SQLite needs the datetime and boolean converters,
PostgreSQL the inet and time zone handling)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import pytest
from django.db import connection
from django.utils import timezone

from panel.prepared import PreparedLookup
from security.sessions.models import TrackedSession

pytestmark = pytest.mark.django_db

LOOKUP = PreparedLookup(
    TrackedSession,
    lambda pk: TrackedSession.objects.filter(pk=pk).select_related("user").order_by()[:1],
)


def fields(obj) -> dict:
    """An instance's column values; a row lookup's row as it is."""
    if isinstance(obj, tuple):
        return obj._asdict()
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.fixture
def record(alice):
    return TrackedSession.objects.create(
        user=alice,
        session_key_hash="a" * 64,
        ip="2001:db8::7",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0",
        browser="Firefox 120",
        os="Linux",
        device_type="desktop",
        city="Zürich",
        country="Switzerland",
        country_code="CH",
        latitude=47.37,
        longitude=8.54,
        method="password",
        ended_at=timezone.now() - timedelta(minutes=3),
        end_reason=TrackedSession.EndReason.REVOKED,
    )


def test_the_row_and_its_user_match_the_orms(record, alice, django_assert_num_queries):
    orm = TrackedSession.objects.select_related("user").get(pk=record.pk)
    with django_assert_num_queries(1):
        found = LOOKUP.first(record.pk)
        assert found.user.username == "alice"  # the join: no second query
    assert type(found) is TrackedSession and found.pk == record.pk
    assert fields(found) == fields(orm)
    assert fields(found.user) == fields(orm.user)
    assert found.ended_at.tzinfo is not None and found.ended_at == orm.ended_at
    assert found.user.is_active is True  # a boolean, not SQLite's 1
    assert found._state.adding is False and found._state.db == "default"


def test_a_missing_row_is_none(record):
    assert LOOKUP.first(record.pk + 1000) is None


def test_the_sql_is_compiled_once_per_connection(monkeypatch, record):
    from django.db.models.sql import compiler

    LOOKUP.first(record.pk)  # compiled now, if no earlier test did
    calls = []
    real = compiler.SQLCompiler.as_sql
    monkeypatch.setattr(
        compiler.SQLCompiler, "as_sql", lambda self, *a, **k: calls.append(1) or real(self, *a, **k)
    )
    for _ in range(3):
        assert LOOKUP.first(record.pk).pk == record.pk
    assert calls == []
    assert getattr(connection, LOOKUP.attribute).sql.count("%s") == 1


def test_querysets_it_cannot_stand_for_are_refused():
    from django.db.models import Count

    two = PreparedLookup(TrackedSession, lambda v: TrackedSession.objects.filter(pk=v, user_id=v))
    with pytest.raises(ValueError, match="exactly once"):
        two.first(1)
    annotated = PreparedLookup(
        TrackedSession,
        lambda v: TrackedSession.objects.filter(pk=v).annotate(n=Count("user__audit_events")),
    )
    with pytest.raises(ValueError, match="no annotations"):
        annotated.first(1)


class Place(NamedTuple):
    pk: int
    user_id: int
    ip: str | None
    city: str
    created_at: datetime
    ended_at: datetime | None


ROWS = PreparedLookup(
    TrackedSession,
    lambda user_id: TrackedSession.objects.filter(user_id=user_id).order_by("-created_at"),
    row=Place,
)


def test_a_row_lookup_answers_the_orms_values_as_rows(record, alice, user_factory):
    """``row=``: only the row's columns, converted as the ORM converts them (SQLite's
    datetimes, PostgreSQL's inet), in the queryset's order; a build_one is refused."""
    later = TrackedSession.objects.create(
        user=alice, session_key_hash="b" * 64, ip="192.0.2.1", city="Köln"
    )
    TrackedSession.objects.create(user=user_factory("other"), session_key_hash="c" * 64)
    rows = ROWS.all(alice.pk)
    expected = TrackedSession.objects.filter(user=alice).order_by("-created_at")
    assert rows == [Place(*values) for values in expected.values_list(*Place._fields)]
    assert [row.pk for row in rows] == [later.pk, record.pk]
    assert rows[1].ip == "2001:db8::7" and rows[1].city == "Zürich"
    assert rows[1].created_at == record.created_at and rows[1].ended_at == record.ended_at
    assert isinstance(rows[1].ended_at, datetime) and rows[0].ended_at is None
    assert ROWS.first(alice.pk) == rows[0]
    assert "session_key_hash" not in ROWS.statement(connection.alias, (alice.pk,))[1]
    compiled, _, _ = ROWS.statement(connection.alias, (alice.pk,))
    with pytest.raises(TypeError, match="rows"):
        ROWS.build_one(connection.alias, compiled, tuple(rows[0]))


def test_datetime_arguments_and_constants_answer_as_the_orm(alice):
    """A datetime argument is adapted as the ORM adapts it (SQLite compares text), the
    boundary included; ``ended_at__isnull`` stays compiled in."""
    now = timezone.now().replace(microsecond=250_000)
    rows = []
    for n, minutes in enumerate((0, 5, 10, 60)):
        rows.append(
            TrackedSession.objects.create(
                user=alice,
                session_key_hash=f"{n}" * 64,
                last_active_at=now - timedelta(minutes=minutes),
                ended_at=now if minutes == 10 else None,
            )
        )
    since = PreparedLookup(
        TrackedSession,
        lambda user_id, cutoff: TrackedSession.objects.filter(
            user_id=user_id, ended_at__isnull=True, last_active_at__gte=cutoff
        ).order_by("-last_active_at", "-id"),
        kinds=(int, datetime),
    )
    for cutoff in (
        now,
        now - timedelta(minutes=5),  # exactly the second row's time: included
        now - timedelta(minutes=5, microseconds=-1),
        now - timedelta(hours=2),
        now + timedelta(seconds=1),
    ):
        orm = list(
            TrackedSession.objects.filter(
                user=alice, ended_at__isnull=True, last_active_at__gte=cutoff
            ).order_by("-last_active_at", "-id")
        )
        assert [r.pk for r in since.all(alice.pk, cutoff)] == [r.pk for r in orm], cutoff
    assert [r.pk for r in since.all(alice.pk, now - timedelta(minutes=5))] == [
        rows[0].pk,
        rows[1].pk,
    ]


def test_iexact_arguments_match_as_the_orms_wildcards_included(user_factory):
    """SQLite compares ``iexact`` with LIKE: a login with ``_`` or ``%`` must match itself
    only, in any case, as with the ORM."""
    from audit.models import AuditEvent
    from security.templatetags.security_sessions import (
        ACTIVITY_EVENTS,
        EventRow,
        _activity_events,
    )

    user = user_factory("a_b%c", email="Mix_Case@example.com")
    for typed in ("A_B%C", "axbyc", "a_b%cd", "mix_case@EXAMPLE.com", "mixxcase@example.com"):
        AuditEvent.objects.create(
            action="signin", outcome="failure", metadata={"login": typed}, ip="192.0.2.1"
        )
    AuditEvent.objects.create(action="signin", user=user, ip="192.0.2.2")
    prepared = ACTIVITY_EVENTS.all(user.pk, user.username, user.email)
    orm = _activity_events(user.pk, user.username, user.email)[:20]
    assert prepared == [EventRow(*values) for values in orm.values_list(*EventRow._fields)]
    assert sorted((e.metadata or {}).get("login", "") for e in prepared) == [
        "",
        "A_B%C",
        "mix_case@EXAMPLE.com",
    ]


def test_lookups_read_together_match_each_read_alone(record, alice, user_factory):
    """``all_together``: the same instances as each lookup's ``all``, an empty list kept in
    its place; one query on PostgreSQL (several statements, one execute), one per
    lookup elsewhere. A ``%`` in a value stays a value."""
    from django.test.utils import CaptureQueriesContext

    from audit.models import AuditEvent
    from panel.prepared import all_together
    from security.templatetags.security_sessions import ACTIVITY_EVENTS
    from security.twofactor.totp import CONFIRMED_DEVICE

    percent = user_factory("per%cent", email="per%cent@example.com")
    AuditEvent.objects.create(
        action="signin", outcome="failure", metadata={"login": "PER%CENT"}, ip="192.0.2.9"
    )
    lookups = [
        (LOOKUP, (record.pk,)),
        (CONFIRMED_DEVICE, (alice.pk,)),  # no app: an empty list between two results
        (ACTIVITY_EVENTS, (percent.pk, percent.username, percent.email)),
        (LOOKUP, (record.pk + 1000,)),
    ]
    alone = [lookup.all(*values) for lookup, values in lookups]
    with CaptureQueriesContext(connection) as queries:
        together = all_together(*lookups)
    assert len(queries) == (1 if connection.vendor == "postgresql" else len(lookups))
    assert [[fields(obj) for obj in found] for found in together] == [
        [fields(obj) for obj in found] for found in alone
    ]
    assert [len(found) for found in together] == [1, 0, 1, 0]
    assert together[0][0].user.username == "alice"  # the join's instance built as well
    # Again and again, the statements prepared on the server by now and the batch's text
    # kept for the connection, with the values swapped: each lookup's own answer.
    swapped = [lookups[3], lookups[1], lookups[2], lookups[0]]
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            again = all_together(*swapped)
        assert len(queries) == (1 if connection.vendor == "postgresql" else len(lookups))
        assert [len(found) for found in again] == [0, 0, 1, 1]
        assert fields(again[3][0]) == fields(together[0][0])
        assert fields(again[2][0]) == fields(together[2][0])
