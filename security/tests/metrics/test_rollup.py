"""The hourly rollup: whole hours counted once (the last one again), the current hour
live, and the counts the same as counting every event."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.actions import Action
from audit.models import AuditEvent
from security.metrics import rollup
from security.metrics.compute import compute
from security.metrics.models import AuditHourlyCount

from .conftest import NOW, at

pytestmark = pytest.mark.django_db


def test_whole_hours_come_from_the_rollup_and_the_current_hour_live(bob):
    at(NOW - timedelta(hours=3), Action.SIGNIN, user=bob)
    at(NOW - timedelta(minutes=10), Action.SIGNIN, user=bob)  # this hour: 12:20
    counts = rollup.counts(NOW - timedelta(hours=24), NOW)
    nine = rollup.hour_of(NOW - timedelta(hours=3))
    twelve = rollup.hour_of(NOW)
    assert counts[(nine, "signin", "success", "")] == 1
    assert counts[(twelve, "signin", "success", "")] == 1
    stored = set(AuditHourlyCount.objects.exclude(action="").values_list("hour", "count"))
    assert stored == {(nine, 1)}  # the current hour is never stored


def test_refreshing_twice_counts_nothing_twice(bob):
    at(NOW - timedelta(hours=5), Action.SIGNIN, user=bob)
    rollup.refresh(now=NOW)
    rollup.refresh(now=NOW)
    rollup.refresh(now=NOW + timedelta(minutes=20))
    assert compute("24h", now=NOW).counts["signins"] == 1


def test_an_event_that_lands_in_the_last_whole_hour_after_it_was_counted_still_counts(bob):
    rollup.refresh(now=NOW)
    at(NOW - timedelta(minutes=45), Action.SIGNIN, user=bob)  # 11:45, counted already
    assert compute("24h", now=NOW).counts["signins"] == 1


def test_the_rollup_gives_the_same_answer_as_counting_every_event(history):
    first = compute("7d", now=NOW)
    AuditHourlyCount.objects.all().delete()
    # Counted straight from the events, hour by hour, as a check.
    direct = AuditEvent.objects.filter(
        created_at__gte=rollup.hour_of(NOW - timedelta(days=7)), action="signin"
    )
    assert first.counts["signins"] == direct.filter(outcome="success").count() == 19
    assert sum(first.series["failed_signins"]) == 1 + 12 + 1
    assert compute("7d", now=NOW).values == first.values
