"""Tracked sessions: start, end, revoke, timeouts, the effective policy and step-up.

A signed-in session carries ``session[TRACK_KEY] = {"id": <TrackedSession pk>}``; the
session middleware (security/session_middleware.py) loads that row on each request and
refuses the session once the row has ended, so ending a row signs that browser out on its
next request, whatever the reason (revoked, idle, password change, replaced, ...).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import audit
from panel.links import absolute_reverse
from security.client.context import client_context
from security.sessions.models import TrackedSession

logger = logging.getLogger(__name__)

TRACK_KEY = "_tracked_session"
STEPUP_KEY = "_stepup_at"
STEPUP_SECONDS = 15 * 60
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


def policy_for(user) -> SessionPolicy:
    """The effective session policy for ``user``.

    Read from settings when called (tests override them). This is the one place a team's
    security policy will tighten the global defaults later.
    """
    return SessionPolicy(
        idle_timeout=int(settings.SESSION_IDLE_TIMEOUT),
        absolute_timeout=int(settings.SESSION_ABSOLUTE_TIMEOUT),
        single_session=bool(settings.SINGLE_SESSION),
        new_device_approval=bool(settings.NEW_DEVICE_APPROVAL),
        suspicious_checks=bool(settings.SUSPICIOUS_SIGNIN_CHECKS),
    )


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
    return TrackedSession.objects.filter(user=user, ended_at__isnull=True)


def listed_for(user):
    """The sessions the Sessions tab shows: open and within the idle and absolute limits
    (a session past them has not been back since, and ends on its next request)."""
    policy = policy_for(user)
    now = timezone.now()
    qs = active_for(user)
    if policy.idle_timeout:
        qs = qs.filter(last_active_at__gte=now - timedelta(seconds=policy.idle_timeout))
    if policy.absolute_timeout:
        qs = qs.filter(created_at__gte=now - timedelta(seconds=policy.absolute_timeout))
    return qs


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
                "session_timed_out",
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
    keep_device_token: str | None = None,
) -> int:
    """End every live tracked session of ``user`` except the one with ``except_session_key``.

    For the accounts services: a password change or reset calls this with
    ``reason="password_change"``, which also forgets the trusted devices (the next
    sign-in on each browser needs the emailed code again), all but the one whose device
    token is ``keep_device_token`` (a change keeps the browser it was made from; a reset
    keeps none). Returns how many ended.
    """
    from security.devices import services as devices

    qs = active_for(user)
    if except_session_key:
        qs = qs.exclude(session_key_hash=hash_key(except_session_key))
        if request is not None and current_id(request):
            # The key may have rotated in this request (update_session_auth_hash)
            # before the stored hash caught up: the session making the change stays.
            qs = qs.exclude(pk=current_id(request))
    with transaction.atomic():
        ids = _end(qs, reason)
        if reason == Reason.PASSWORD_CHANGE:
            devices.forget_all(
                user=user, request=request, reason="password_change", keep_token=keep_device_token
            )
    return len(ids)


def revoke(*, request: HttpRequest, record: TrackedSession) -> bool:
    """The signed-in user signs one of their other sessions out."""
    if record.user_id != request.user.pk or record.pk == current_id(request):
        raise ValueError("Only another session of your own can be revoked.")
    with transaction.atomic():
        ended = bool(_end(TrackedSession.objects.filter(pk=record.pk), Reason.REVOKED))
        if ended:
            audit(
                "session_revoked",
                request=request,
                user=request.user,
                metadata={"session": record.pk, "device": record.device_label, "ip": record.ip},
            )
    return ended


def revoke_others(*, request: HttpRequest) -> int:
    """Sign out every other session of the signed-in user."""
    with transaction.atomic():
        ids = _end(active_for(request.user).exclude(pk=current_id(request)), Reason.REVOKED)
        audit(
            "sessions_revoked_all", request=request, user=request.user, metadata={"count": len(ids)}
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
                    "session_revoked",
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
                    "sessions_revoked_all",
                    actor=actor,
                    user=user,
                    metadata={"count": len(ids), "source": source},
                )
        total += len(ids)
    return total


# --- Step-up ----------------------------------------------------------------------------


def stepup_is_recent(request: HttpRequest) -> bool:
    """Whether the user confirmed who they are in this session in the last 15 minutes.

    Kept in the server-side session only: nothing the browser sends can set it.
    """
    at = request.session.get(STEPUP_KEY)
    return isinstance(at, (int, float)) and 0 <= time.time() - at <= STEPUP_SECONDS


def has_second_factor(user) -> bool:
    from security.twofactor.totp import has_2fa

    return has_2fa(user)


def stepup(*, request: HttpRequest, password: str = "", code: str = ""):
    """Check the password (or a current 2FA code) again. On success the step-up time is
    kept in the session and the key rotates; a wrong answer is audited and counted in
    the sign-in lockout. Returns the lockout status (``.locked``) or True on success."""
    from security.lockout import policy as lockout
    from security.twofactor.totp import verify_totp

    user = request.user
    ok = False
    factor = "password"
    if password:
        ok = user.has_usable_password() and check_password(password, user.password)
    elif code and has_second_factor(user):
        factor = "totp"
        ok = verify_totp(user=user, code="".join(code.split())).ok
    if not ok:
        audit("stepup", request=request, outcome="failure", user=user, metadata={"factor": factor})
        return lockout.record_failure(request, login=user.get_username())
    request.session.cycle_key()
    request.session[STEPUP_KEY] = time.time()
    audit("stepup", request=request, user=user, metadata={"factor": factor})
    return True


# --- The sign-in pipeline's hooks (security/services/signin.py) ---------------------------


def before_signin(request: HttpRequest, user, *, method: str, next_url: str | None, device=None):
    """After every factor, before ``login()``: hold a suspicious sign-in, or ask for the
    emailed code on an unrecognised browser. Returns the redirect to that step, or None
    when the sign-in may complete now. ``device`` (the django-otp device that verified
    the second factor) is remembered so the completed session counts as 2FA-verified."""
    from django.shortcuts import redirect

    from security.devices import services as devices
    from security.signin import pending
    from security.suspicious import services as suspicious

    policy = policy_for(user)
    token = devices.ensure_token(request)
    otp_device = getattr(device, "persistent_id", None)
    if policy.suspicious_checks:
        reasons = suspicious.assess(request, user)
        if reasons:
            pending.clear(request)
            suspicious.hold(
                request=request,
                user=user,
                reasons=reasons,
                method=method,
                next_url=next_url,
                token=token,
                otp_device=otp_device,
            )
            return redirect("security:signin_held")
    if devices.trusted_device(user, token) is not None:
        return None
    if policy.new_device_approval and not devices.is_first_signin(user):
        pending.start(request, user, stage="device", method=method, next_url=next_url)
        devices.start_challenge(request=request, user=user, token=token, otp_device=otp_device)
        return redirect("security:device_code")
    return None


def otp_device_from(persistent_id: str | None, user):
    """The django-otp device a pending step remembered (None if gone or not the user's)."""
    if not persistent_id:
        return None
    from django_otp.models import Device

    device = Device.from_persistent_id(persistent_id)
    return device if device is not None and device.user_id == user.pk else None


def after_signin(request: HttpRequest, user, *, method: str) -> TrackedSession:
    """Right after ``login()``: record the session, trust or refresh the device, send the
    "New sign-in" email for a new device, and end older sessions under single-session."""
    from security.devices import services as devices

    record = start_session(request, user, method=method)
    policy = policy_for(user)
    token = devices.ensure_token(request)
    device = devices.trusted_device(user, token)
    first = devices.is_first_signin(user, exclude_session=record.pk)
    new_device = False
    if device is None:
        new_device = True
        if first or not policy.new_device_approval:
            devices.trust(
                request=request, user=user, token=token, via="first_signin" if first else "signin"
            )
        else:  # pragma: no cover - every pipeline path asks for the code first
            logger.warning(
                "sign-in completed on an unapproved device without a code (user id %s)", user.pk
            )
    else:
        new_device = getattr(request, "_device_newly_trusted", None) is not None
        devices.seen(device, request)
    if new_device and not first:
        _send_new_signin(request, user, record)
    _warn_about_failures(request, user)
    if policy.single_session:
        ids = _end(active_for(user).exclude(pk=record.pk), Reason.REPLACED)
        if ids:
            audit("sessions_replaced", request=request, user=user, metadata={"count": len(ids)})
    return record


def _warn_about_failures(request: HttpRequest, user) -> None:
    """The next-sign-in banner: failed attempts on the account since the last sign-in."""
    from django.contrib import messages

    from audit.models import AuditEvent
    from security.suspicious.services import failures_since

    previous = (
        AuditEvent.objects.filter(user=user, action="signin", outcome=AuditEvent.Outcome.SUCCESS)
        .values_list("created_at", flat=True)
        .first()
    )
    if previous is None:
        return
    count = failures_since(user, previous)
    if count:
        messages.warning(
            request,
            f"There {'was' if count == 1 else 'were'} {count} failed attempt"
            f"{'' if count == 1 else 's'} to sign in to your account since your last visit. "
            "If it wasn't you, change your password (Settings › Security lists them).",
        )


def _send_new_signin(request: HttpRequest, user, record: TrackedSession) -> None:

    from accounts.emails import send_email
    from security.suspicious.services import report_token

    send_email(
        to=user.email,
        template="new_signin",
        context={
            "user": user,
            "session": record,
            "when": record.created_at,
            "not_me_link": absolute_reverse("security:not_me", report_token(record)),
            "sessions_link": absolute_reverse("security:sessions"),
        },
    )
