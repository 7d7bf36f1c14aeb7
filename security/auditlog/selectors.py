"""The audit events a reader may see, filtered: one function for every reader.

``filtered_events(params, team_id=...)`` is the team-scoped query (the team audit log
page, its CSV, and the JSON API's ``/api/v1/audit``): the scope is applied first, to the
base queryset, and the filters (django-filter, ``AuditEventFilter``) only narrow it
further, so no filter value (a user of another team, an address, a forged ``team``
parameter, which is not a filter at all) can widen a team's view beyond its own events.
``team_id=None`` is the global log (superusers only; the caller checks).
"""

from __future__ import annotations

from django.db.models import QuerySet

from audit.models import AuditEvent
from security.auditlog.filters import AuditEventFilter


def events_for(*, team_id: int | None = None) -> QuerySet[AuditEvent]:
    """Every event (global), or one team's: those recorded with its ``team_id``."""
    events = AuditEvent.objects.all()
    if team_id is not None:
        events = events.filter(team_id=int(team_id))
    return events


def filtered_events(
    params, *, team_id: int | None = None
) -> tuple[AuditEventFilter, QuerySet[AuditEvent] | None]:
    """The filter set over ``params`` (a QueryDict or dict) and the events it selects,
    newest first with the actor, user and impersonator joined; ``None`` instead of the
    events when a filter value is invalid (the caller answers 400 with the form's errors,
    never the unfiltered trail)."""
    filterset = AuditEventFilter(params or None, queryset=events_for(team_id=team_id))
    if filterset.is_bound and not filterset.is_valid():
        return filterset, None
    return filterset, filterset.qs.select_related("actor", "user", "impersonator").order_by(
        "-created_at", "-id"
    )
