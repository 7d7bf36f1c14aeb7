"""The Security tab's "Administrator access" list: who acted as the user, why, when."""

from __future__ import annotations

from django import template

from audit.actions import Action
from audit.models import AuditEvent

register = template.Library()

LIMIT = 20


@register.simple_tag
def impersonation_activity(user, limit: int = LIMIT) -> list[dict]:
    """The starts and ends of impersonations of ``user``, newest first."""
    events = (
        AuditEvent.objects.filter(
            user=user,
            action__in=[Action.IMPERSONATION_STARTED, Action.IMPERSONATION_ENDED],
        )
        .select_related("impersonator")
        .order_by("-created_at", "-pk")[:limit]
    )
    how_labels = {
        "ended": "ended",
        "expired": "ended after the time limit",
        "signout": "ended at sign-out",
        "not_allowed": "ended (no longer allowed)",
    }
    rows = []
    for event in events:
        metadata = event.metadata or {}
        started = event.action == Action.IMPERSONATION_STARTED
        who = event.impersonator.get_full_name() if event.impersonator else "An administrator"
        rows.append(
            {
                "when": event.created_at,
                "who": who,
                "label": "Started acting as you"
                if started
                else f"Stopped acting as you ({how_labels.get(metadata.get('how'), 'ended')})",
                "reason": metadata.get("reason", ""),
                "started": started,
            }
        )
    return rows
