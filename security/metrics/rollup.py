"""Hourly counts of audit events (``AuditHourlyCount``), the dashboard's rollup.

``refresh()`` counts every whole hour not yet counted (at most ``MAX_BACKFILL`` back)
and the last whole hour again, from the events' time index; it is idempotent (the hours
are deleted and counted again in one transaction). The 5-minute beat task calls it, and
``counts()`` does first (so the first view after a quiet spell pays for the missing
hours), then reads whole hours from the rollup and the current hour live.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from audit.actions import Action
from audit.models import AuditEvent
from security.metrics.models import AuditHourlyCount

MAX_BACKFILL = timedelta(days=31)
HOUR = timedelta(hours=1)
# The actions the dashboard counts.
COUNTED = (
    Action.SIGNIN,
    Action.TWO_FACTOR_FAILED,
    Action.NEW_DEVICE_CODE_FAILED,
    Action.SUSPICIOUS_SIGNIN_HELD,
    Action.LOCKOUT,
    Action.DEVICE_TRUSTED,
    Action.PASSWORD_RESET,
)


def hour_of(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def _grouped(events):
    """(hour, action, outcome, via, team) -> count, one grouped query."""
    rows = (
        events.filter(action__in=COUNTED)
        .annotate(
            hour=TruncHour("created_at"),
            via=KT("metadata__via"),
        )
        .values("hour", "action", "outcome", "via", "team_id")
        .annotate(n=Count("id"))
    )
    out: dict[tuple, int] = defaultdict(int)
    for row in rows:
        via = (row["via"] or "") if row["action"] == Action.DEVICE_TRUSTED else ""
        out[(row["hour"], row["action"], row["outcome"], via, row["team_id"] or 0)] += row["n"]
    return out


def refresh(*, now=None) -> int:
    """Count the whole hours since the last counted one. Returns the rows written."""
    now = now or timezone.now()
    current = hour_of(now)
    latest = AuditHourlyCount.objects.aggregate(latest=Max("hour"))["latest"]
    # The last whole hour is always counted again (an event committed just after its
    # hour ended is not lost); anything older only once.
    start = min(latest + HOUR if latest else current - MAX_BACKFILL, current - HOUR)
    start = max(start, current - MAX_BACKFILL)
    counted = _grouped(AuditEvent.objects.filter(created_at__gte=start, created_at__lt=current))
    rows = [
        AuditHourlyCount(
            hour=hour, action=action, outcome=outcome, via=via[:32], team_id=team, count=n
        )
        for (hour, action, outcome, via, team), n in counted.items()
    ]
    # An empty marker row for the last hour, so that a quiet hour is not counted again.
    rows.append(AuditHourlyCount(hour=current - HOUR, action="", outcome="", count=0))
    with transaction.atomic():
        AuditHourlyCount.objects.filter(hour__gte=start, hour__lt=current).delete()
        AuditHourlyCount.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def counts(
    since: datetime, now: datetime, *, team_id: int | None = None, daily: bool = False
) -> dict[tuple, int]:
    """(hour, action, outcome, via) -> count over [hour_of(since), now]: whole past hours
    from the rollup, the current hour live. ``daily``: the stored hours are summed per day
    in the database (the key's hour is then that day's midnight, UTC), so a 30-day view
    reads about a thousand rows, not one per hour and kind (over 20,000 at 1,000,000
    events)."""
    current = hour_of(now)
    refresh(now=now)
    out: dict[tuple, int] = defaultdict(int)
    stored = AuditHourlyCount.objects.filter(
        hour__gte=hour_of(since), hour__lt=current, action__in=COUNTED
    )
    if team_id is not None:
        stored = stored.filter(team_id=team_id)
    if daily:
        rows = (
            stored.annotate(day=TruncDay("hour"))
            .values("day", "action", "outcome", "via")
            .annotate(n=Sum("count"))
            .values_list("day", "action", "outcome", "via", "n")
        )
    else:
        rows = stored.values_list("hour", "action", "outcome", "via", "count")
    for hour, action, outcome, via, n in rows:
        out[(hour, action, outcome, via)] += n
    live = AuditEvent.objects.filter(created_at__gte=current, created_at__lte=now)
    if team_id is not None:
        live = live.filter(team_id=team_id)
    for (hour, action, outcome, via, _team), n in _grouped(live).items():
        out[(hour, action, outcome, via)] += n
    return out


def live_counts(events) -> dict[tuple, int]:
    """(hour, action, outcome, via) -> count of ``events`` (already narrowed to a window
    and a scope), counted live in one grouped query: a team's members' events, which the
    panel-wide rollup cannot tell apart."""
    out: dict[tuple, int] = defaultdict(int)
    for (hour, action, outcome, via, _team), n in _grouped(events).items():
        out[(hour, action, outcome, via)] += n
    return out
