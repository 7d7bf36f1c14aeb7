"""The half-signed-in state between the password step and a completed sign-in.

It lives in the server-side session (never in a cookie value the client controls) for
five minutes. Stages: ``"2fa"`` (waiting for a TOTP or backup code) and ``"device"``
(waiting for the emailed new-device code). Signing out, timing out or a lockout clears it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.http import HttpRequest

SESSION_KEY = "_pending_signin"
LIFETIME_SECONDS = 5 * 60


@dataclass
class Pending:
    user_id: int
    stage: str
    started_at: float
    method: str = "password"
    next_url: str | None = None
    # The stored password hash when the sign-in began, hashed again: a password change,
    # a reset or the deny path ("it wasn't me") ends every half-finished sign-in that
    # got past the old password.
    password_fingerprint: str = ""

    @property
    def expired(self) -> bool:
        return time.time() - self.started_at > LIFETIME_SECONDS

    def user(self):
        """The user signing in, or None (gone, inactive, or the password has changed)."""
        user = get_user_model().objects.filter(pk=self.user_id, is_active=True).first()
        if user is None or not hmac.compare_digest(
            self.password_fingerprint, password_fingerprint(user)
        ):
            return None
        return user


def password_fingerprint(user) -> str:
    return hashlib.sha256(f"pending-signin:{user.password}".encode()).hexdigest()


def start(
    request: HttpRequest, user, *, stage: str, method: str = "password", next_url: str | None = None
) -> Pending:
    """Begin (or move to) a stage. The session key rotates so a fixated key is useless."""
    request.session.cycle_key()
    pending = Pending(
        user_id=user.pk,
        stage=stage,
        started_at=time.time(),
        method=method,
        next_url=next_url,
        password_fingerprint=password_fingerprint(user),
    )
    request.session[SESSION_KEY] = pending.__dict__
    return pending


def advance(request: HttpRequest, *, stage: str, method: str) -> Pending | None:
    """Move the live pending sign-in to the next stage, keeping its start time."""
    pending = get(request)
    if pending is None:
        return None
    pending.stage = stage
    pending.method = method
    request.session[SESSION_KEY] = pending.__dict__
    return pending


def get(request: HttpRequest) -> Pending | None:
    """The live pending sign-in, or None (an expired one is cleared)."""
    data = request.session.get(SESSION_KEY)
    if not data:
        return None
    try:
        pending = Pending(**data)
    except TypeError:
        clear(request)
        return None
    if pending.expired:
        clear(request)
        return None
    return pending


def clear(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
