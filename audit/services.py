"""Write the audit trail. Every state change in the panel calls ``audit()``.

Nothing secret reaches the trail or the log: metadata keys that name a secret
(passwords, codes, tokens, keys, session keys) are dropped at any depth, whatever the
caller passes, and every value written to the log line has its control characters
escaped so that a crafted username cannot forge a second log line. Request-derived text
is stored safely on PostgreSQL: the User-Agent decoded, cleaned and bounded
(``panel.headers.from_request``), NUL replaced in every metadata key and string.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest

from audit.actions import Action
from audit.models import AuditEvent
from panel import headers
from panel.net import client_ip

logger = logging.getLogger("panel.audit")

# Metadata keys that are dropped: exact names, and any key containing one of the parts.
_SECRET_NAMES = {
    "code",
    "key",
    "pin",
    "otp",
    "backup_code",
    "recovery_code",
    "totp_code",
    "verification_code",
    "api_key",
    "private_key",
    "session_key",
    "sessionid",
    "cookie",
    "authorization",
}
_SECRET_PARTS = ("password", "passwd", "secret", "token", "credential")
_MAX_STRING = 500
_MAX_DEPTH = 4
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u0085\u2028\u2029]")

# The administrator acting as the signed-in user for the current request (set by
# security.impersonation's middleware): events recorded without the request still name
# both people.
_impersonator: ContextVar[Any] = ContextVar("panel_audit_impersonator", default=None)


@contextmanager
def acting_as(impersonator) -> Iterator[None]:
    """Within the block, every event records ``impersonator`` unless given another."""
    token = _impersonator.set(impersonator)
    try:
        yield
    finally:
        _impersonator.reset(token)


def is_secret_key(key: str) -> bool:
    name = str(key).lower()
    return name in _SECRET_NAMES or any(part in name for part in _SECRET_PARTS)


def _text(value: str) -> str:
    """A bounded string without NUL (refused by PostgreSQL in text and in jsonb)."""
    return value[:_MAX_STRING].replace("\x00", "\ufffd")


def _clean_value(value: Any, depth: int) -> Any:
    if isinstance(value, dict):
        if depth >= _MAX_DEPTH:
            return "…"
        return {
            _text(str(k)): _clean_value(v, depth + 1)
            for k, v in value.items()
            if not is_secret_key(k)
        }
    if isinstance(value, list | tuple | set | frozenset):
        if depth >= _MAX_DEPTH:
            return "…"
        return [_clean_value(v, depth + 1) for v in list(value)[:100]]
    if isinstance(value, str):
        return _text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    # Dates, UUIDs, decimals, lazy strings: their JSON form, else their text.
    try:
        encoded = json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    except (TypeError, ValueError):
        encoded = str(value)
    return _text(encoded) if isinstance(encoded, str) else _clean_value(encoded, depth + 1)


def clean_metadata(metadata: dict[str, Any] | None) -> dict[str, Any]:
    """JSON-safe metadata with every secret-named key removed, strings bounded."""
    return _clean_value(dict(metadata or {}), 0)


def escape_for_log(value: Any) -> str:
    r"""``value`` as one log-safe line: CR, LF and other control characters become \xNN."""
    text = "-" if value is None else str(value)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:_MAX_STRING]


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
    """Record one event and write one log line. Returns the new event.

    ``actor`` defaults to the signed-in user of ``request``; ``user`` is the affected
    account and defaults to the actor. The impersonator is read from the request
    (``request.impersonator``) when an admin is acting as someone else. Call it inside
    the service's ``transaction.atomic()`` so that the event and the change it records
    commit together.
    """
    if action not in Action.values:
        raise ValueError(f"Unknown audit action {action!r}: add it to audit.actions.Action.")
    if outcome not in AuditEvent.Outcome.values:
        raise ValueError(f"Unknown audit outcome {outcome!r}.")
    ip = None
    ua = ""
    if request is not None:
        ip = client_ip(request)
        ua = headers.from_request(request)
        request_user = getattr(request, "user", None)
        if actor is None and request_user is not None and request_user.is_authenticated:
            actor = request_user
        if impersonator is None:
            impersonator = getattr(request, "impersonator", None)
        # What made the request, set by the API's authentication (the API key's id or
        # the access token's session id; never the secret): the event says which.
        via = getattr(request, "audit_via", None)
        if isinstance(via, dict):
            metadata = {**via, **(metadata or {})}
    if impersonator is None:
        impersonator = _impersonator.get()
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
        metadata=clean_metadata(metadata),
    )
    logger.info(
        "audit action=%s outcome=%s user=%s actor=%s ip=%s event=%s",
        escape_for_log(action),
        escape_for_log(outcome),
        escape_for_log(getattr(user, "username", None)),
        escape_for_log(getattr(actor, "username", None)),
        escape_for_log(ip),
        event.pk,
    )
    return event
