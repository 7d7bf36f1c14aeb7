"""Suspicious sign-ins: detect, hold for the owner's approval, approve or deny.

A sign-in (password and any second factor already right) is held when it comes from a
country this account never signed in from (and it has a history), when it is too far
from the previous sign-in to have travelled there in the time between (over 1,000 km/h),
or after a burst of failed attempts on the account. The owner gets an email with signed,
single-use Approve and Deny links (30 minutes) and can also decide from a signed-in,
trusted session. Denying ends every session, forgets every device and forces a password
reset. Without a GeoIP database the location checks are skipped (and the skip is
logged): a broken database never blocks anyone.
"""

from __future__ import annotations

import hmac
import logging
import math
from datetime import datetime, timedelta

from django.core import signing
from django.db import transaction
from django.db.models import Exists, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts.emails import send_email
from accounts.services import request_password_reset
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel.links import absolute_url
from panel.net import client_ip
from panel.prepared import PreparedLookup
from security.client import geoip
from security.client.context import client_context
from security.devices import services as devices
from security.devices.models import NewDeviceChallenge, TrustedDevice
from security.devices.services import token_hash
from security.exceptions import DecisionRefused
from security.sessions import services as sessions
from security.sessions.models import TrackedSession
from security.signin import pending
from security.suspicious.models import SuspiciousSignIn

logger = logging.getLogger(__name__)

HOLD_LIFETIME = timedelta(minutes=30)
MAX_SPEED_KMH = 1000
# GeoIP places a city by its centre; below this distance two sign-ins are "the same place".
MIN_TRAVEL_KM = 100
FAILURE_BURST = 10
FAILURE_WINDOW = timedelta(hours=1)
HELD_KEY = "_held_signin"
LINK_SALT = "security.suspicious-signin"

# Failed attempts that count towards a burst (the 2FA and lockout events included).
FAILURE_ACTIONS = (
    "signin",
    "2fa_failed",
    "backup_code_failed",
    "new_device_code_failed",
    "passkey_failed",
    "passkey_counter_regressed",
    "stepup",
    "reauth_failed",
)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points, in kilometres."""
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def _failures(user):
    """Failed attempts on the account. Failed passwords are recorded before anyone is
    known, so they are matched by the login that was typed."""
    by_login = Q()
    for login in filter(None, [user.get_username(), user.email]):
        by_login |= Q(user__isnull=True, metadata__login__iexact=login)
    return AuditEvent.objects.filter(
        Q(user=user) | by_login,
        action__in=FAILURE_ACTIONS,
        outcome__in=[AuditEvent.Outcome.FAILURE, AuditEvent.Outcome.DENIED],
    )


def recent_failures(user, *, now=None) -> int:
    now = now or timezone.now()
    return _failures(user).filter(created_at__gte=now - FAILURE_WINDOW).count()


def failures_since(user, since) -> int:
    """Failed attempts on the account after ``since`` (for the next-sign-in banner)."""
    return _failures(user).filter(created_at__gt=since).count()


ALERT_INTERVAL = timedelta(hours=1)


def alert_second_factor_failed(*, request: HttpRequest, user) -> bool:
    """Someone knew the password but failed the second factor: email the owner, at most
    once an hour (an attacker hammering the 2FA step must not flood the mailbox)."""

    since = timezone.now() - ALERT_INTERVAL
    if AuditEvent.objects.filter(
        user=user, action="signin_alert_sent", created_at__gte=since
    ).exists():
        return False
    client = client_context(request)
    with transaction.atomic():
        send_email(
            to=user.email,
            template="signin_2fa_failed",
            context={
                "user": user,
                "device": client.device.label,
                "location": client.place.label,
                "ip": client.ip,
                "when": timezone.now(),
                "password_link": absolute_url(reverse("accounts:settings_password")),
            },
        )
        audit(
            Action.SIGNIN_ALERT_SENT,
            request=request,
            actor=None,
            user=user,
            metadata={"reason": "second_factor_failed"},
        )
    return True


def assess(request: HttpRequest, user, *, now=None) -> list[str]:
    """The reasons this sign-in is suspicious (empty: it is not)."""
    now = now or timezone.now()
    reasons: list[str] = []
    ip = client_ip(request)
    if not geoip.available():
        logger.warning(
            "suspicious sign-in location checks skipped: GeoIP unavailable (user id %s)", user.pk
        )
    else:
        place = geoip.lookup(ip)
        history = TrackedSession.objects.filter(user=user)
        if place.known:
            countries = set(history.exclude(country_code="").values_list("country_code", flat=True))
            if countries and place.country_code not in countries:
                reasons.append("new_country")
        if place.has_coordinates:
            previous = (
                history.filter(latitude__isnull=False, longitude__isnull=False)
                .order_by("-created_at")
                .first()
            )
            if previous is not None:
                km = haversine_km(
                    previous.latitude, previous.longitude, place.latitude, place.longitude
                )
                hours = max((now - previous.created_at).total_seconds() / 3600, 1 / 3600)
                if km >= MIN_TRAVEL_KM and km / hours > MAX_SPEED_KMH:
                    reasons.append("impossible_travel")
    if recent_failures(user, now=now) >= FAILURE_BURST:
        reasons.append("failure_burst")
    return reasons


# --- Links ------------------------------------------------------------------------------


def decision_token(held: SuspiciousSignIn, action: str) -> str:
    return signing.dumps({"id": held.pk, "a": action}, salt=LINK_SALT, compress=True)


def read_decision_token(token: str) -> tuple[SuspiciousSignIn | None, str]:
    """The held sign-in and action a link names; (None, "") if forged or over 30 minutes old."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=HOLD_LIFETIME)
    except signing.BadSignature:
        return None, ""
    if not isinstance(data, dict) or data.get("a") not in ("approve", "deny"):
        return None, ""
    held = SuspiciousSignIn.objects.select_related("user").filter(pk=data.get("id")).first()
    return held, data["a"]


# --- Hold -------------------------------------------------------------------------------


def hold(
    *,
    request: HttpRequest,
    user,
    reasons: list[str],
    method: str,
    next_url: str | None,
    token: str,
    otp_device: str | None = None,
) -> SuspiciousSignIn:
    """Hold this sign-in and ask the owner. The waiting browser keeps the id in its
    server-side session (``HELD_KEY``); nothing is signed in yet."""

    client = client_context(request)
    now = timezone.now()
    with transaction.atomic():
        held = SuspiciousSignIn.objects.create(
            user=user,
            reasons=reasons,
            **client.fields(),
            device_token_hash=token_hash(token),
            expires_at=now + HOLD_LIFETIME,
        )
        send_email(
            to=user.email,
            template="suspicious_signin",
            context={
                "user": user,
                "held": held,
                "approve_link": absolute_url(
                    reverse("security:signin_review", args=[decision_token(held, "approve")])
                ),
                "deny_link": absolute_url(
                    reverse("security:signin_review", args=[decision_token(held, "deny")])
                ),
                "minutes": int(HOLD_LIFETIME.total_seconds() // 60),
            },
        )
        audit(
            Action.SUSPICIOUS_SIGNIN_HELD,
            request=request,
            actor=None,
            user=user,
            metadata={"held": held.pk, "reasons": reasons, "country": client.place.country_code},
        )
    request.session[HELD_KEY] = {
        "id": held.pk,
        "user_id": user.pk,
        "method": method,
        "next": next_url,
        "otp_device": otp_device,
        # A new password ends this sign-in, as it ends every half-finished one.
        "password_fingerprint": pending.password_fingerprint(user),
    }
    return held


def held_for(request: HttpRequest) -> tuple[SuspiciousSignIn | None, dict]:
    data = request.session.get(HELD_KEY)
    if not isinstance(data, dict):
        return None, {}
    held = (
        SuspiciousSignIn.objects.select_related("user")
        .filter(pk=data.get("id"), user_id=data.get("user_id"))
        .first()
    )
    if (
        held is not None
        and held.status != SuspiciousSignIn.Status.DENIED  # the page says "denied"
        and not hmac.compare_digest(
            str(data.get("password_fingerprint") or ""), pending.password_fingerprint(held.user)
        )
    ):
        # The password changed (a reset or a change) since this sign-in got past it: the
        # hold is over, approved or not.
        request.session.pop(HELD_KEY, None)
        return None, {}
    return held, data


def pending_for(user) -> list[SuspiciousSignIn]:
    """The user's held sign-ins still waiting for a decision."""
    return _PENDING.all(user.pk, timezone.now())


def pending_for_trusted_browser(user, device_token: str | None) -> list[SuspiciousSignIn]:
    """The user's held sign-ins still waiting, if the browser holding ``device_token`` is
    one of the user's trusted devices (only a trusted browser may decide on them), else
    none: one query for both questions, the Sessions tab's."""
    lookup = pending_for_trusted_browser_lookup(user, device_token)
    return lookup[0].all(*lookup[1]) if lookup else []


def pending_for_trusted_browser_lookup(user, device_token: str | None):
    """``pending_for_trusted_browser``'s prepared lookup and values, to read with others
    (``panel.prepared.all_together``); None without a device token (nothing to read)."""
    if not device_token:
        return None
    return _PENDING_IF_TRUSTED, (user.pk, timezone.now(), user.pk, token_hash(device_token))


def _waiting(user_id: int, now):
    """The user's held sign-ins still waiting for a decision at ``now``."""
    return SuspiciousSignIn.objects.filter(
        user_id=user_id, status=SuspiciousSignIn.Status.PENDING, expires_at__gt=now
    )


_PENDING = PreparedLookup(SuspiciousSignIn, _waiting, kinds=(int, datetime))

# _waiting, when the browser is one of the owner's trusted devices; compiled once
# (panel.prepared): the Sessions tab reads it on every view.
_PENDING_IF_TRUSTED = PreparedLookup(
    SuspiciousSignIn,
    lambda user_id, now, owner_id, hashed: _waiting(user_id, now).filter(
        Exists(TrustedDevice.objects.filter(user_id=owner_id, token_hash=hashed))
    ),
    kinds=(int, datetime, int, str),
)


def _decide(held: SuspiciousSignIn, status: str, via: str) -> SuspiciousSignIn:
    """Record the owner's decision on a still-pending hold (call inside a transaction).
    Single use: a hold already decided, or past its 30 minutes, refuses."""
    locked = SuspiciousSignIn.objects.select_for_update().get(pk=held.pk)
    if locked.status != SuspiciousSignIn.Status.PENDING or locked.expired:
        raise DecisionRefused("This sign-in was already decided or has expired.")
    locked.status = status
    locked.decided_at = timezone.now()
    locked.decided_via = via
    locked.save(update_fields=["status", "decided_at", "decided_via"])
    return locked


def approve(*, held: SuspiciousSignIn, via: str, request: HttpRequest | None = None) -> None:
    """The owner says it was them: the waiting browser may finish signing in."""
    with transaction.atomic():
        locked = _decide(held, SuspiciousSignIn.Status.APPROVED, via)
        audit(
            Action.SUSPICIOUS_SIGNIN_APPROVED,
            request=request,
            actor=held.user if via == "email" else None,
            user=held.user,
            metadata={"held": held.pk, "via": via},
        )
    held.status = locked.status


def deny(*, held: SuspiciousSignIn, via: str, request: HttpRequest | None = None) -> None:
    """The owner says it was not them: end the attempt and secure the account."""
    with transaction.atomic():
        locked = _decide(held, SuspiciousSignIn.Status.DENIED, via)
        _secure_and_record(user=held.user, request=request, metadata={"held": held.pk, "via": via})
    held.status = locked.status


def report_not_me(*, record: TrackedSession, request: HttpRequest | None = None) -> None:
    """ "This wasn't me" in a new sign-in email: the same path as denying a held sign-in."""
    with transaction.atomic():
        locked = TrackedSession.objects.select_for_update().get(pk=record.pk)
        if locked.reported_at is not None:
            raise DecisionRefused("This sign-in was already reported.")
        locked.reported_at = timezone.now()
        locked.save(update_fields=["reported_at"])
        _secure_and_record(
            user=record.user,
            request=request,
            metadata={"session": record.pk, "via": "new_signin_email"},
        )


def _secure_and_record(*, user, request: HttpRequest | None, metadata: dict) -> None:
    """The deny path both ways in share: secure the account, one audit event."""
    ended = secure_account(user=user, request=request)
    audit(
        Action.SUSPICIOUS_SIGNIN_DENIED,
        request=request,
        actor=None,
        user=user,
        metadata={**metadata, "sessions_ended": ended},
    )


def secure_account(*, user, request: HttpRequest | None = None) -> int:
    """End every session, forget every device, and force a password reset: the password
    becomes unusable and a reset link is emailed. Returns how many sessions ended."""

    ended = sessions.end_user_sessions(
        user, reason=TrackedSession.EndReason.DENIED, request=request
    )
    devices.forget_all(user=user, request=request, reason="denied")
    now = timezone.now()
    # Held sign-ins still waiting, and approved ones their browser has not finished yet.
    SuspiciousSignIn.objects.filter(
        user=user,
        status__in=[SuspiciousSignIn.Status.PENDING, SuspiciousSignIn.Status.APPROVED],
    ).update(status=SuspiciousSignIn.Status.DENIED, decided_at=now, decided_via="secured")
    # Emailed new-device codes not used yet die too.
    NewDeviceChallenge.objects.filter(user=user, used_at__isnull=True).update(code_expires_at=now)
    # A new password hash also ends every half-finished sign-in (pending.Pending.user).
    user.set_unusable_password()
    user.save(update_fields=["password"])

    request_password_reset(email=user.email, request=request)
    return ended


def held_by_this_browser(held: SuspiciousSignIn, token: str | None) -> bool:
    """Whether ``token`` (this browser's device token) is the one the hold was made for:
    a copy of the waiting session in another browser cannot use the approval."""

    return bool(token) and hmac.compare_digest(held.device_token_hash, token_hash(token))


def complete_held(*, held: SuspiciousSignIn) -> bool:
    """Mark an approved hold as used by its browser (single use); True if it was approved
    within the last 30 minutes (the waiting page checks every few seconds)."""
    return bool(
        SuspiciousSignIn.objects.filter(
            pk=held.pk,
            status=SuspiciousSignIn.Status.APPROVED,
            decided_at__gte=timezone.now() - HOLD_LIFETIME,
        ).update(status=SuspiciousSignIn.Status.COMPLETED)
    )


def cancel(*, held: SuspiciousSignIn, request: HttpRequest | None = None) -> None:
    """The waiting browser gave up: the hold expires now, so neither the emailed links
    nor the Sessions tab can approve it any more."""
    with transaction.atomic():
        cancelled = SuspiciousSignIn.objects.filter(
            pk=held.pk, status=SuspiciousSignIn.Status.PENDING, expires_at__gt=timezone.now()
        ).update(expires_at=timezone.now())
        if cancelled:
            audit(
                Action.SUSPICIOUS_SIGNIN_CANCELLED,
                request=request,
                actor=None,
                user=held.user,
                metadata={"held": held.pk},
            )
