"""The "session errors" metric (product document: > 1% of refreshes is a warning, > 5%
critical): counted in the cache per hour, never written per ordinary request.

What counts (docs/security.md, "Session errors"):

- a **refresh** is a signed-in session's activity being stored: the tracked-session
  middleware writes last-active at most once a minute per session
  (``security.sessions.services.touch``), and each such write also adds one here; a page
  view in between adds nothing;
- a **session error** is a request that met one of
  - ``garbled_cookie``: a session cookie that is not one the panel issues (not 32
    lowercase letters and digits: tampered, truncated, or mangled by a proxy), so the
    browser's session could not be loaded;
  - ``csrf_signed_in``: a CSRF failure on a signed-in request (the form's token no
    longer matches the session's: a session rotated or lost under an open form);
  - ``interrupted``: Django's ``SessionInterrupted`` (the session was deleted, e.g. by a
    sign-out elsewhere, while the request ran, so it could not be saved).

A session cookie of the right shape that names no session is not an error: that is a
session that ended (timeout, sign-out, revocation), which the session expiry rate counts.

The counters are per hour and kind, kept 32 days (``cache.incr``, atomic on Redis); a
cache flush loses them, and the dashboard then shows "No data" until refreshes come
again. They are panel-wide: a garbled cookie names no account, so no team's share of it
can be told (the team dashboard leaves this metric out).
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

KINDS = ("garbled_cookie", "csrf_signed_in", "interrupted")
REFRESH = "refresh"
KEEP = 32 * 24 * 3600
_ISSUED = re.compile(r"[a-z0-9]{32}")


def _key(kind: str, hour: datetime) -> str:
    return f"metrics:session:{kind}:{hour:%Y%m%d%H}"


def _add(kind: str, *, now=None) -> None:
    hour = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    key = _key(kind, hour)
    try:
        if not cache.add(key, 1, KEEP):
            cache.incr(key)
    except Exception:  # a metric never breaks the request that it counts
        logger.warning("session metric %s not counted", kind, exc_info=True)


def record_refresh(*, now=None) -> None:
    _add(REFRESH, now=now)


def record_error(kind: str, *, now=None) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown session error {kind!r}")
    _add(kind, now=now)


def looks_issued(cookie: str) -> bool:
    """True for a value of the shape Django's session store issues."""
    return bool(_ISSUED.fullmatch(cookie or ""))


def counts(hours: list[datetime]) -> dict[str, list[int]]:
    """kind -> one count per hour of ``hours`` (one cache read for all of them)."""
    wanted = {(kind, h): _key(kind, h) for kind in (REFRESH, *KINDS) for h in hours}
    try:
        found = cache.get_many(list(wanted.values()))
    except Exception:
        logger.warning("session metric counts unavailable", exc_info=True)
        found = {}
    return {
        kind: [int(found.get(wanted[(kind, h)], 0) or 0) for h in hours]
        for kind in (REFRESH, *KINDS)
    }


def hours_between(since: datetime, until: datetime) -> list[datetime]:
    start = since.replace(minute=0, second=0, microsecond=0)
    out = []
    while start <= until:
        out.append(start)
        start += timedelta(hours=1)
    return out


class InterruptedSessionHandler(logging.Handler):
    """On Django's ``django.security.SessionInterrupted`` logger (``install()``): each
    record is one request whose session could not be saved."""

    def emit(self, record: logging.LogRecord) -> None:
        record_error("interrupted")


class SignedInCsrfFailureHandler(logging.Handler):
    """On Django's ``django.security.csrf`` logger: a CSRF rejection of a request whose
    session is signed in (the middleware logs each rejection with the request)."""

    def emit(self, record: logging.LogRecord) -> None:
        request = getattr(record, "request", None)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            record_error("csrf_signed_in")


def install() -> None:
    """Attach the two handlers (idempotent; the security app's ``ready()`` calls it).
    Django's own handlers on these loggers are left as they are."""
    for name, handler_class in (
        ("django.security.SessionInterrupted", InterruptedSessionHandler),
        ("django.security.csrf", SignedInCsrfFailureHandler),
    ):
        log = logging.getLogger(name)
        if not any(isinstance(h, handler_class) for h in log.handlers):
            log.addHandler(handler_class(level=logging.WARNING))
