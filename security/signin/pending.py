"""The half-signed-in state between the password step and a completed sign-in.

It lives in the server-side session (never in a cookie value the client controls) for
five minutes. Stages: ``"2fa"`` (waiting for a TOTP or backup code) and ``"device"``
(waiting for the emailed new-device code). Signing out, timing out or a lockout clears it.

A lockout ends every pending sign-in of its (address, account) pair, not only the one of
the browser that triggered it: the state remembers the address it began from, and
``Pending.user()`` refuses it when that pair (or the whole account) has been locked since
it began (``Lockout.last_locked_at``), even once the lock is over.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, Q
from django.http import HttpRequest

from panel.net import client_ip
from security.lockout.models import Lockout

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
    # The client address at the start and the account's lockout key (its lower-cased
    # username): the (address, account) pair whose lockouts end this sign-in. A state
    # saved without them (before they existed) is refused.
    ip: str = ""
    lock_key: str = ""

    @property
    def expired(self) -> bool:
        return time.time() - self.started_at > LIFETIME_SECONDS

    def user(self):
        """The user signing in, or None (gone, inactive, the password has changed, or
        the pair was locked since this sign-in began). One query."""
        if not self.ip or not self.lock_key:
            return None
        began = datetime.fromtimestamp(self.started_at, tz=UTC)
        locked_since = Lockout.objects.filter(
            Q(ip=self.ip) | Q(ip__isnull=True, hard_locked=True),
            username=self.lock_key,
            last_locked_at__gte=began,
        )
        user = (
            get_user_model()
            .objects.filter(pk=self.user_id, is_active=True)
            .filter(~Exists(locked_since))
            .first()
        )
        if user is None or not hmac.compare_digest(
            self.password_fingerprint, password_fingerprint(user)
        ):
            return None
        return user


def password_fingerprint(user) -> str:
    return hashlib.sha256(f"pending-signin:{user.password}".encode()).hexdigest()


def lock_key(user) -> str:
    """The account's key on the lockout counters (``accounts.backends.normalize_login``
    maps every spelling of an existing account to its lower-cased username)."""
    return user.get_username().lower()


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
        ip=client_ip(request),
        lock_key=lock_key(user),
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
