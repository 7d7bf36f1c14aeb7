"""Who may read the operations pages (audit log, failed attempts, block list, metrics).

Today: superusers, over every team. Team scoping plugs in here: a team page passes
``team_id`` and the teams app's permission check (``events.read`` for the log,
``system.admin`` for the metrics) decides, with the events narrowed to
``AuditEvent.team_id``.
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from audit.models import AuditEvent


def superuser_required(view):
    """Signed in (the default policy) and a superuser; anyone else gets 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_superuser:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    # Read by security.stepup.middleware: a non-superuser gets this 403, not a step-up.
    wrapped.superuser_required = True
    return wrapped


def events_for(*, team_id: int | None = None) -> QuerySet[AuditEvent]:
    """The events a page may show: every event (global), or one team's."""
    events = AuditEvent.objects.all()
    if team_id is not None:
        events = events.filter(team_id=team_id)
    return events
