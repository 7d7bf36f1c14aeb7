"""Tracked sessions: start, end, revoke, timeouts, the effective policy, the "not me" link.

A signed-in session carries ``session[TRACK_KEY] = {"id": <TrackedSession pk>}``; the
session middleware (security/sessions/middleware.py) loads that row on each request and
refuses the session once the row has ended, so ending a row signs that browser out on its
next request, whatever the reason (revoked, idle, password change, replaced, ...).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.actions import Action
from audit.services import audit
from panel.prepared import PreparedLookup
from security.client.context import client_context
from security.metrics import session_errors
from security.sessions.models import TrackedSession
from security.stepup import high_security, state as stepup_state

logger = logging.getLogger(__name__)

TRACK_KEY = "_tracked_session"
REPORT_SALT = "security.not-me"
REPORT_LIFETIME = timedelta(days=7)
# Last-active is written at most this often per session: a page view is not a write.
ACTIVITY_WRITE_INTERVAL = 60

Reason = TrackedSession.EndReason

# What the signed-out browser is told on its next request.
END_MESSAGES = {
    Reason.REVOKED: "Your session was signed out from another device.",
    Reason.IDLE: "You were signed out after {idle} minutes without activity. Please sign in again.",
    Reason.EXPIRED: "Your session reached its maximum length of {absolute} hours. Please sign in again.",
    Reason.PASSWORD_CHANGE: "Your password was changed, so this session was signed out.",
    Reason.REPLACED: "You were signed out because your account signed in on another device.",
    Reason.DISABLED: "Your session has ended.",
    Reason.DENIED: "This session was ended to secure your account.",
    Reason.TWO_FACTOR_ENABLED: (
        "Two-factor authentication was turned on for your account: sign in again with "
        "your authenticator app."
    ),
}


# --- Policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionPolicy:
    idle_timeout: int  # seconds
    absolute_timeout: int  # seconds
    single_session: bool
    new_device_approval: bool
    suspicious_checks: bool


# Providers that tighten the policy for a user (the teams app registers the team security
# policy): ``provider(user, policy) -> SessionPolicy``. Security imports no provider; they
# register themselves in their AppConfig.ready().
PolicyProvider = Callable[[Any, SessionPolicy], SessionPolicy]
_policy_providers: dict[str, PolicyProvider] = {}


def register_policy_provider(name: str, provider: PolicyProvider) -> None:
    """Add (or replace) a provider. A provider may only tighten: shorter timeouts, more
    checks; ``policy_for`` keeps the stricter value of each field whatever it returns."""
    _policy_providers[name] = provider


def _stricter(a: SessionPolicy, b: SessionPolicy) -> SessionPolicy:
    def shorter(x: int, y: int) -> int:
        return min(v for v in (x, y) if v) if (x or y) else 0

    return SessionPolicy(
        idle_timeout=shorter(a.idle_timeout, b.idle_timeout),
        absolute_timeout=shorter(a.absolute_timeout, b.absolute_timeout),
        single_session=a.single_session or b.single_session,
        new_device_approval=a.new_device_approval or b.new_device_approval,
        suspicious_checks=a.suspicious_checks or b.suspicious_checks,
    )


# Kept on the user object for the request (a page asks up to three times), with the
# settings it was made from; a provider whose data changed in the request calls
# ``forget_policy``.
_POLICY_ATTR = "_panel_session_policy"


def policy_for(user) -> SessionPolicy:
    """The effective session policy for ``user``: the settings (read when called, tests
    override them), tightened by every registered provider (a team's security policy)."""
    policy = SessionPolicy(
        idle_timeout=int(settings.SESSION_IDLE_TIMEOUT),
        absolute_timeout=int(settings.SESSION_ABSOLUTE_TIMEOUT),
        single_session=bool(settings.SINGLE_SESSION),
        new_device_approval=bool(settings.NEW_DEVICE_APPROVAL),
        suspicious_checks=bool(settings.SUSPICIOUS_SIGNIN_CHECKS),
    )
    if user is None or not getattr(user, "pk", None):
        return policy
    kept = getattr(user, _POLICY_ATTR, None)
    if kept is not None and kept[0] == policy:
        return kept[1]
    base = policy
    for provider in _policy_providers.values():
        policy = _stricter(policy, provider(user, policy))
    setattr(user, _POLICY_ATTR, (base, policy))
    return policy


def forget_policy(user) -> None:
    """Drop the policy kept on ``user`` (a provider's data changed in this request)."""
    if user is not None and hasattr(user, _POLICY_ATTR):
        delattr(user, _POLICY_ATTR)


def end_message(reason: str, user=None) -> str:
    policy = policy_for(user)
    template = END_MESSAGES.get(reason, "Your session has ended. Please sign in again.")
    return template.format(
        idle=max(1, policy.idle_timeout // 60), absolute=max(1, policy.absolute_timeout // 3600)
    )


# --- Keys and lookups -------------------------------------------------------------------


def hash_key(session_key: str) -> str:
    return hashlib.sha256(session_key.encode()).hexdigest()


def current_id(request: HttpRequest) -> int | None:
    data = request.session.get(TRACK_KEY)
    if isinstance(data, dict) and isinstance(data.get("id"), int):
        return data["id"]
    return None


def current(request: HttpRequest) -> TrackedSession | None:
    record = getattr(request, "tracked_session", None)
    if record is not None:
        return record
    pk = current_id(request)
    return TrackedSession.objects.filter(pk=pk).first() if pk else None


def active_for(user):
    """The user's open sessions (``user``: a user or its pk)."""
    return TrackedSession.objects.filter(user=user, ended_at__isnull=True)


def _listed(user_id: int, active_since=None, created_since=None):
    """Open sessions of ``user_id``, active since ``active_since`` and created since
    ``created_since`` (each when given), most recently active first."""
    found = active_for(user_id)
    if active_since is not None:
        found = found.filter(last_active_at__gte=active_since)
    if created_since is not None:
        found = found.filter(created_at__gte=created_since)
    return found.order_by("-last_active_at", "-id")


def _limits(user) -> tuple:
    """``(active_since, created_since)`` of the user's session policy now (None for a limit
    that is off)."""
    policy, now = policy_for(user), timezone.now()
    return (
        now - timedelta(seconds=policy.idle_timeout) if policy.idle_timeout else None,
        now - timedelta(seconds=policy.absolute_timeout) if policy.absolute_timeout else None,
    )


def listed_for(user):
    """The sessions the Sessions tab shows, most recently active first: open and within
    the idle and absolute limits (a session past them has not been back since, and ends
    on its next request)."""
    return _listed(user.pk, *_limits(user))


def listed_rows(user) -> list[TrackedSession]:
    """``listed_for(user)`` as a list: with both limits set (the default), by SQL compiled
    once (panel.prepared; the Sessions tab reads it on every view)."""
    lookup = listed_lookup(user)
    if lookup is None:
        return list(listed_for(user))
    return lookup[0].all(*lookup[1])


def listed_lookup(user):
    """``listed_rows``' prepared lookup and values, to read with others
    (``panel.prepared.all_together``); None unless both limits are set."""
    active_since, created_since = _limits(user)
    if active_since is None or created_since is None:
        return None
    return _LISTED, (user.pk, active_since, created_since)


# listed_for with both limits, compiled once (panel.prepared).
_LISTED = PreparedLookup(TrackedSession, _listed, kinds=(int, datetime, datetime))


# --- Start ------------------------------------------------------------------------------


def start_session(request: HttpRequest, user, *, method: str = "") -> TrackedSession:
    """Record the session ``login()`` just created (idempotent for the same session key).

    The User-Agent is parsed and the IP located here, once: requests later in the session
    do not repeat the work.
    """
    if not request.session.session_key:
        request.session.save()
    key_hash = hash_key(request.session.session_key)
    existing = TrackedSession.objects.filter(session_key_hash=key_hash, user=user).first()
    if existing is not None:
        if method and not existing.method:
            existing.method = method
            existing.save(update_fields=["method"])
        request.session[TRACK_KEY] = {"id": existing.pk}
        return existing
    fields = client_context(request).fields()
    if not request.META.get("REMOTE_ADDR"):
        fields["ip"] = None  # no address at all (not "0.0.0.0")
    record = TrackedSession.objects.create(
        user=user, session_key_hash=key_hash, method=method, **fields
    )
    request.session[TRACK_KEY] = {"id": record.pk}
    request.tracked_session = record
    return record


def key_rotated(request: HttpRequest) -> None:
    """Keep the stored hash current after the session key changed (step-up, 2FA)."""
    pk = current_id(request)
    key = request.session.session_key
    if pk and key:
        TrackedSession.objects.filter(pk=pk, ended_at__isnull=True).exclude(
            session_key_hash=hash_key(key)
        ).update(session_key_hash=hash_key(key))


def touch(record: TrackedSession, *, now=None) -> bool:
    """Write last-active if the stored value is a minute old or more; True if written."""
    now = now or timezone.now()
    if (now - record.last_active_at).total_seconds() < ACTIVITY_WRITE_INTERVAL:
        return False
    TrackedSession.objects.filter(pk=record.pk).update(last_active_at=now)
    record.last_active_at = now
    # A "refresh", the denominator of the session errors metric (one cache add with
    # the write that happens anyway).
    session_errors.record_refresh(now=now)
    return True


def timed_out(record: TrackedSession, user, *, now=None) -> str | None:
    """``Reason.EXPIRED`` or ``Reason.IDLE`` when the session is past a limit, else None."""
    now = now or timezone.now()
    policy = policy_for(user)
    if policy.absolute_timeout and now - record.created_at > timedelta(
        seconds=policy.absolute_timeout
    ):
        return Reason.EXPIRED
    if policy.idle_timeout and now - record.last_active_at > timedelta(seconds=policy.idle_timeout):
        return Reason.IDLE
    return None


# --- End --------------------------------------------------------------------------------


def _end(queryset, reason: str) -> list[int]:
    """End the live rows of ``queryset``; return their ids."""
    ids = list(queryset.filter(ended_at__isnull=True).values_list("pk", flat=True))
    if ids:
        TrackedSession.objects.filter(pk__in=ids, ended_at__isnull=True).update(
            ended_at=timezone.now(), end_reason=reason
        )
    return ids


def end_session(record: TrackedSession, *, reason: str, request: HttpRequest | None = None) -> bool:
    """End one session (its browser is signed out on its next request). Audited for
    timeouts; revocation has its own service with its own event."""
    ended = bool(_end(TrackedSession.objects.filter(pk=record.pk), reason))
    if ended:
        record.ended_at, record.end_reason = timezone.now(), reason
        if reason in (Reason.IDLE, Reason.EXPIRED):
            audit(
                Action.SESSION_TIMED_OUT,
                request=request,
                actor=None,
                user=record.user,
                metadata={"session": record.pk, "reason": reason},
            )
    return ended


def end_user_sessions(
    user,
    *,
    except_session_key: str | None = None,
    reason: str,
    request: HttpRequest | None = None,
) -> int:
    """End every live tracked session of ``user`` except the one with ``except_session_key``.

    Returns how many ended.
    """
    qs = active_for(user)
    if except_session_key:
        qs = qs.exclude(session_key_hash=hash_key(except_session_key))
        if request is not None and current_id(request):
            # The key may have rotated in this request (update_session_auth_hash)
            # before the stored hash caught up: the session making the change stays.
            qs = qs.exclude(pk=current_id(request))
    with transaction.atomic():
        ids = _end(qs, reason)
    return len(ids)


def end_others(user, *, keep: TrackedSession, reason: str) -> int:
    """End every live session of ``user`` but ``keep`` (SINGLE_SESSION's new sign-in)."""
    return len(_end(active_for(user).exclude(pk=keep.pk), reason))


def revoke(*, request: HttpRequest, record: TrackedSession) -> bool:
    """The signed-in user signs one of their other sessions out."""
    if record.user_id != request.user.pk or record.pk == current_id(request):
        raise ValueError("Only another session of your own can be revoked.")
    stepup_state.require_recent(request)
    high_security.require(request, "sessions")
    with transaction.atomic():
        ended = bool(_end(TrackedSession.objects.filter(pk=record.pk), Reason.REVOKED))
        if ended:
            audit(
                Action.SESSION_REVOKED,
                request=request,
                user=request.user,
                metadata={"session": record.pk, "device": record.device_label, "ip": record.ip},
            )
    return ended


def revoke_others(*, request: HttpRequest) -> int:
    """Sign out every other session of the signed-in user (after a recent step-up)."""
    stepup_state.require_recent(request)
    high_security.require(request, "sessions")
    with transaction.atomic():
        ids = _end(active_for(request.user).exclude(pk=current_id(request)), Reason.REVOKED)
        audit(
            Action.SESSIONS_REVOKED_ALL,
            request=request,
            user=request.user,
            metadata={"count": len(ids)},
        )
    return len(ids)


def revoke_records(*, queryset, request: HttpRequest | None = None, source: str = "admin") -> int:
    """Operators: end the live sessions in ``queryset``. One audit event per user."""
    total = 0
    by_user: dict = {}
    for row in queryset.filter(ended_at__isnull=True).select_related("user"):
        by_user.setdefault(row.user, []).append(row.pk)
    for user, ids in by_user.items():
        with transaction.atomic():
            ended = _end(TrackedSession.objects.filter(pk__in=ids), Reason.REVOKED)
            if ended:
                audit(
                    Action.SESSION_REVOKED,
                    request=request,
                    user=user,
                    metadata={"sessions": ended, "source": source},
                )
        total += len(ended)
    return total


def revoke_all_for(*, users, actor=None, source: str = "command", dry_run: bool = False) -> int:
    """Operators: end every live session of ``users`` (a queryset). Audited per user."""
    total = 0
    for user in users:
        qs = active_for(user)
        if dry_run:
            total += qs.count()
            continue
        with transaction.atomic():
            ids = _end(qs, Reason.REVOKED)
            if ids:
                audit(
                    Action.SESSIONS_REVOKED_ALL,
                    actor=actor,
                    user=user,
                    metadata={"count": len(ids), "source": source},
                )
        total += len(ids)
    return total


# --- The "This wasn't me" link of the new sign-in email --------------------------------


def report_token(record: TrackedSession) -> str:
    return signing.dumps({"s": record.pk, "u": record.user_id}, salt=REPORT_SALT, compress=True)


def read_report_token(token: str) -> TrackedSession | None:
    try:
        data = signing.loads(token, salt=REPORT_SALT, max_age=REPORT_LIFETIME)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    return (
        TrackedSession.objects.select_related("user")
        .filter(pk=data.get("s"), user_id=data.get("u"))
        .first()
    )
