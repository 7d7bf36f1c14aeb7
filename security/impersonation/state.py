"""The impersonation in progress, kept in the server-side session only.

The session stays the administrator's own (signed in, tracked, timed out and step-up as
theirs); this entry says whom they act as, why, and until when. Nothing the browser
sends can set it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.http import HttpRequest

SESSION_KEY = "_impersonation"
LIMIT_SECONDS = 30 * 60


@dataclass(frozen=True)
class Impersonation:
    user_id: int
    impersonator_id: int
    reason: str
    started_at: float
    expires_at: float

    def seconds_left(self, now: float | None = None) -> int:
        return max(0, int(self.expires_at - (time.time() if now is None else now)))

    def expired(self, now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= self.expires_at

    @property
    def minutes_left(self) -> int:
        """Whole minutes left, rounded up (a banner says "1 min" until the very end)."""
        return -(-self.seconds_left() // 60)

    @property
    def ends_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, tz=UTC)


def read(request: HttpRequest) -> Impersonation | None:
    """The impersonation of this session, or None (also for a malformed entry)."""
    raw = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not isinstance(raw, dict):
        return None
    try:
        return Impersonation(
            user_id=int(raw["user_id"]),
            impersonator_id=int(raw["impersonator_id"]),
            reason=str(raw["reason"]),
            started_at=float(raw["started_at"]),
            expires_at=float(raw["expires_at"]),
        )
    except (KeyError, TypeError, ValueError):
        return None


def write(
    request: HttpRequest, *, user_id: int, impersonator_id: int, reason: str
) -> Impersonation:
    now = time.time()
    found = Impersonation(
        user_id=user_id,
        impersonator_id=impersonator_id,
        reason=reason,
        started_at=now,
        expires_at=now + LIMIT_SECONDS,
    )
    request.session[SESSION_KEY] = {
        "user_id": found.user_id,
        "impersonator_id": found.impersonator_id,
        "reason": found.reason,
        "started_at": found.started_at,
        "expires_at": found.expires_at,
    }
    return found


def clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
