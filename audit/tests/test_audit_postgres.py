"""On PostgreSQL the database itself refuses to rewrite the audit trail (services leg)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, models, transaction

from audit.models import AuditEvent
from audit.services import audit

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture
def event(alice):
    return audit("signin", user=alice, metadata={"method": "password"})


def test_the_database_is_postgresql():
    assert connection.vendor == "postgresql"


def test_the_trigger_refuses_an_update_by_raw_sql(event):
    with (
        pytest.raises(DatabaseError, match="append-only: UPDATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE security_auditevent SET action = %s WHERE id = %s", ["forged", event.pk]
        )
    assert AuditEvent.objects.get(pk=event.pk).action == "signin"


def test_the_trigger_refuses_a_delete_by_raw_sql(event):
    with (
        pytest.raises(DatabaseError, match="append-only: DELETE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM security_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_trigger_refuses_a_queryset_that_bypasses_the_model_guard(event):
    # A plain QuerySet skips AuditEventQuerySet's Python guard: the trigger still holds.
    plain = models.QuerySet(model=AuditEvent).filter(pk=event.pk)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        plain.update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        plain._raw_delete(connection.alias)
    assert AuditEvent.objects.get(pk=event.pk).action == "signin"


def test_the_queryset_refuses_before_the_database_is_asked(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_new_events_are_still_appended(event, bob):
    audit("signin", user=bob)
    assert AuditEvent.objects.count() == 2
