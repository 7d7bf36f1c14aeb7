"""Write the audit trail. Every state change in the panel calls ``audit()``."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest

from panel.net import client_ip

from ..models import AuditEvent

logger = logging.getLogger("panel.audit")

# Keys that must never reach the audit trail, whatever a caller passes.
_SECRET_KEYS = {"password", "password1", "password2", "old_password", "new_password1",
                "new_password2", "code", "token", "otp_token", "secret", "key", "backup_code"}
_MAX_UA = 1000


def _clean(metadata: dict[str, Any] | None) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for key, value in (metadata or {}).items():
        if key.lower() in _SECRET_KEYS:
            continue
        clean[key] = value
    return clean


def audit(
    action: str,
    *,
    request: HttpRequest | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    actor=None,
    user=None,
    impersonator=None,
    team_id: int | None = None,
    metadata: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record one event. ``actor`` defaults to the signed-in user of ``request``.

    ``user`` is the affected account (defaults to the actor). The impersonator is read
    from the request when an admin is acting as someone else.
    """
    ip = None
    ua = ""
    if request is not None:
        ip = client_ip(request)
        ua = request.META.get("HTTP_USER_AGENT", "")[:_MAX_UA]
        request_user = getattr(request, "user", None)
        if actor is None and request_user is not None and request_user.is_authenticated:
            actor = request_user
        if impersonator is None:
            impersonator = getattr(request, "impersonator", None)
    if user is None:
        user = actor
    event = AuditEvent.objects.create(
        action=action,
        outcome=outcome,
        actor=actor if getattr(actor, "pk", None) else None,
        user=user if getattr(user, "pk", None) else None,
        impersonator=impersonator if getattr(impersonator, "pk", None) else None,
        team_id=team_id,
        ip=ip,
        user_agent=ua,
        metadata=_clean(metadata),
    )
    # repr() escapes CR/LF, so a crafted username cannot forge a log line.
    logger.info(
        "audit action=%s outcome=%s user=%r ip=%s",
        action,
        outcome,
        getattr(user, "username", None),
        ip,
    )
    return event
