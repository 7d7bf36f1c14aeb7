"""panel.prepared.all_together on PostgreSQL: each lookup PREPAREd once per database
connection, in front of the first batch that needs it (one execute), then run with
EXECUTE; the answers are each lookup's own; a connection that lost its prepared
statements goes back to sending them whole (services leg: PostgreSQL)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from panel.prepared import PreparedLookup, all_together
from security.sessions.models import TrackedSession
from security.templatetags.security_sessions import ACTIVITY_EVENTS

pytestmark = [pytest.mark.services, pytest.mark.django_db]

# A constant with a percent sign and a LIKE wildcard written into the PREPARE.
LIKE = PreparedLookup(
    TrackedSession,
    lambda user_id: TrackedSession.objects.filter(user_id=user_id, city__contains="5%_x"),
)
ALL_OF = PreparedLookup(
    TrackedSession, lambda user_id: TrackedSession.objects.filter(user_id=user_id).order_by("pk")
)


def sessions(alice):
    for n, city in enumerate(("a 5%_x b", "a 5%%_x", "5a_x", "5%_x")):
        TrackedSession.objects.create(user=alice, session_key_hash=f"{n}" * 64, city=city)


def batch(alice, percent):
    return [
        (LIKE, (alice.pk,)),
        (ALL_OF, (alice.pk,)),
        (ACTIVITY_EVENTS, (percent.pk, percent.username, percent.email)),
    ]


def forget_prepared():
    """As a fresh database connection: nothing prepared (PostgreSQL and our record). The
    tests share one connection: each starts from here."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection._panel_prepared_on = None


def test_prepared_once_then_executed_with_the_same_answers(alice, user_factory):
    sessions(alice)
    percent = user_factory("per%cent", email="per%cent@example.com")
    AuditEvent.objects.create(action="signin", outcome="failure", metadata={"login": "PER%CENT"})
    forget_prepared()
    lookups = batch(alice, percent)
    alone = [lookup.all(*values) for lookup, values in lookups]
    with CaptureQueriesContext(connection) as first:
        together = all_together(*lookups)
    with CaptureQueriesContext(connection) as second:
        again = all_together(*lookups)
    assert len(first) == len(second) == 1
    assert first[0]["sql"].count("PREPARE ") == 3 and "EXECUTE " in first[0]["sql"]
    assert "PREPARE" not in second[0]["sql"] and second[0]["sql"].count("EXECUTE ") == 3
    assert len(second[0]["sql"]) < 200  # the statements stay on the server
    for answers in (together, again):
        assert [[obj.pk for obj in found] for found in answers[:2]] == [
            [obj.pk for obj in found] for found in alone[:2]
        ]
        assert answers[2] == alone[2] and len(answers[2]) == 1
    assert sorted(s.city for s in together[0]) == ["5%_x", "a 5%_x b"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'panel_%%'")
        assert cursor.fetchone()[0] == 3


@pytest.mark.django_db(transaction=True)
def test_a_connection_that_lost_them_sends_the_statements_whole(alice, user_factory):
    sessions(alice)
    percent = user_factory("pat")
    lookups = batch(alice, percent)
    forget_prepared()
    all_together(*lookups)  # prepared now
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # a pooler's DISCARD, say: our record is stale
    with CaptureQueriesContext(connection) as queries:
        answers = all_together(*lookups)
    assert [len(found) for found in answers] == [2, 4, 0]
    assert len(queries) == 2  # the EXECUTEs refused, then the statements whole
    assert "EXECUTE" not in queries[-1]["sql"]
    with CaptureQueriesContext(connection) as later:
        assert [len(found) for found in all_together(*lookups)] == [2, 4, 0]
    assert len(later) == 1 and "EXECUTE" not in later[0]["sql"]


def test_inside_a_transaction_the_error_is_the_callers(alice, user_factory):
    sessions(alice)
    lookups = batch(alice, user_factory("pia"))
    forget_prepared()
    all_together(*lookups)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError), transaction.atomic():
        all_together(*lookups)
    assert connection._panel_prepared_on[1] is None  # whole statements from now on


def test_the_batch_text_kept_is_forgotten_with_the_statements(alice, user_factory):
    """The EXECUTE text of a batch is kept beside the names prepared: a connection that
    starts afresh (here: our record reset, the server's statements dropped) prepares
    again rather than executing names the server no longer holds."""
    sessions(alice)
    lookups = batch(alice, user_factory("pip"))
    forget_prepared()
    for _ in range(2):  # prepared, then the batch's text kept
        assert [len(found) for found in all_together(*lookups)] == [2, 4, 0]
    forget_prepared()
    with CaptureQueriesContext(connection) as queries:
        assert [len(found) for found in all_together(*lookups)] == [2, 4, 0]
    assert len(queries) == 1 and queries[0]["sql"].count("PREPARE ") == 3
