"""Who may read the operations pages (audit log, failed attempts, block list, metrics).

Here: superusers, over every team. The team pages (``teams/views/events.py``,
``teams/views/metrics.py``) are declared with ``@team_permission("events.read")`` and
``("system.admin")`` and read the same selectors with the team's id
(``security.auditlog.selectors``).
"""

from __future__ import annotations

from functools import wraps

from django.core.exceptions import PermissionDenied

from security.auditlog.selectors import events_for

__all__ = ["events_for", "superuser_required"]


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
