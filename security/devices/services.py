"""Trusted devices and the emailed new-device code.

A browser is recognised by a long-lived device cookie: a random token, signed with
``django.core.signing`` (so a forged value is ignored without a database lookup),
HttpOnly, SameSite=Lax, Secure when the session cookie is. Only the token's SHA-256 is
stored. A sign-in from a browser the user has not trusted must enter a 6-digit code sent
to their address (valid 10 minutes, single use, stored as an HMAC bound to the pending
sign-in); then the browser is trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.emails import send_email
from audit.actions import Action
from audit.services import audit
from panel.links import absolute_reverse
from panel.net import client_ip
from panel.prepared import PreparedLookup
from security.client.context import client_context
from security.devices.models import NewDeviceChallenge, TrustedDevice
from security.exceptions import ResendRefused
from security.sessions.models import TrackedSession

COOKIE_SALT = "security.device-cookie"
COOKIE_MAX_AGE = 365 * 24 * 3600
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
MAX_CODE_ATTEMPTS = 5
MAX_SENDS = 5
CHALLENGE_KEY = "_device_challenge"


# --- The device cookie ------------------------------------------------------------------


def cookie_name() -> str:
    # __Host- pins the cookie to this exact origin over HTTPS (no Domain, Path=/).
    return "__Host-device" if settings.SESSION_COOKIE_SECURE else "panel_device"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def current_token(request: HttpRequest) -> str | None:
    """The device token of this browser (from the signed cookie), or None."""
    pending = getattr(request, "_device_token_to_set", None)
    if pending:
        return pending
    return read_signed_token(request.COOKIES.get(cookie_name()))


def read_signed_token(raw: str | None) -> str | None:
    """The device token inside a signed value (the cookie's, or the API's ``deviceToken``),
    or None when it is missing, forged or malformed."""
    if not raw or not isinstance(raw, str) or len(raw) > 500:
        return None
    try:
        token = signing.loads(raw, salt=COOKIE_SALT)
    except signing.BadSignature:
        return None
    return token if isinstance(token, str) and 20 <= len(token) <= 100 else None


def signed_token(token: str) -> str:
    """The signed form of a device token: the cookie's value, and the API's deviceToken."""
    return signing.dumps(token, salt=COOKIE_SALT)


def ensure_token(request: HttpRequest) -> str:
    """This browser's device token, issuing one (the middleware sets the cookie) if needed."""
    token = current_token(request)
    if token is None:
        token = secrets.token_urlsafe(32)
        request._device_token_to_set = token
    return token


def set_cookie(response, token: str) -> None:
    response.set_cookie(
        cookie_name(),
        signed_token(token),
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        path="/",
    )


# --- Trust ------------------------------------------------------------------------------


def trusted_device(user, token: str | None) -> TrustedDevice | None:
    if not token or user is None:
        return None
    return _TRUSTED.first(user.pk, token_hash(token))


# (user, token hash) names one row: no ORDER BY. Compiled once (panel.prepared): the
# Sessions tab and every sign-in read it.
_TRUSTED = PreparedLookup(
    TrustedDevice,
    lambda user_id, hashed: TrustedDevice.objects.filter(
        user_id=user_id, token_hash=hashed
    ).order_by()[:1],
    kinds=(int, str),
)


def is_first_signin(user, *, exclude_session: int | None = None) -> bool:
    """No trusted device and no earlier sign-in through the pipeline: the first browser
    an account ever signs in from is trusted without a code. (Forgetting every device
    does not make the next sign-in a "first" one: the history remains.)"""
    if TrustedDevice.objects.filter(user=user).exists():
        return False
    earlier = TrackedSession.objects.filter(user=user).exclude(method="")
    if exclude_session:
        earlier = earlier.exclude(pk=exclude_session)
    return not earlier.exists()


def trust(*, request: HttpRequest, user, token: str, via: str) -> TrustedDevice:
    """Trust this browser for ``user`` (or refresh an existing trust's last-seen)."""
    now = timezone.now()
    client = client_context(request)
    with transaction.atomic():
        trusted, created = TrustedDevice.objects.get_or_create(
            user=user,
            token_hash=token_hash(token),
            defaults={"name": client.device.label, **client.fields()},
        )
        if created:
            audit(
                Action.DEVICE_TRUSTED,
                request=request,
                actor=user,
                user=user,
                metadata={"device": trusted.pk, "name": trusted.name, "via": via},
            )
            request._device_newly_trusted = trusted
        else:
            TrustedDevice.objects.filter(pk=trusted.pk).update(last_seen_at=now, ip=client.ip)
    return trusted


def seen(device: TrustedDevice, request: HttpRequest) -> None:
    """A trusted browser signed in again."""
    TrustedDevice.objects.filter(pk=device.pk).update(
        last_seen_at=timezone.now(), ip=client_ip(request)
    )


def forget(*, request: HttpRequest, device: TrustedDevice) -> None:
    """The user forgets one trusted browser: its next sign-in needs the code again."""
    if device.user_id != request.user.pk:
        raise ValueError("Only your own devices can be forgotten.")
    with transaction.atomic():
        deleted, _ = TrustedDevice.objects.filter(pk=device.pk).delete()
        if deleted:
            audit(
                Action.DEVICE_FORGOTTEN,
                request=request,
                user=request.user,
                metadata={"device": device.pk, "name": device.name},
            )


def forget_by_operator(*, queryset, actor, request: HttpRequest | None = None) -> int:
    """Operators (the admin's action): forget the trusted devices in ``queryset``; the
    next sign-in on each needs the emailed code. One audit event per affected user."""
    total = 0
    by_user: dict = {}
    for device in queryset.select_related("user"):
        by_user.setdefault(device.user, []).append(device.pk)
    for user, ids in by_user.items():
        with transaction.atomic():
            count, _ = TrustedDevice.objects.filter(pk__in=ids).delete()
            if count:
                audit(
                    Action.DEVICE_FORGOTTEN,
                    request=request,
                    actor=actor,
                    user=user,
                    metadata={"count": count, "reason": "operator"},
                )
        total += count
    return total


def trusted_count(user) -> int:
    return TrustedDevice.objects.filter(user=user).count()


def forget_all(
    *, user, request: HttpRequest | None = None, reason: str, keep_token: str | None = None
) -> int:
    """Forget every trusted browser of ``user`` (their next sign-in needs the emailed
    code); returns how many were forgotten. ``keep_token``: the device token of a browser
    that stays trusted (a password change keeps the browser it was made from: the user
    has just proved the password, and the second factor, there). The audit event says
    how many were forgotten and how many kept."""
    with transaction.atomic():
        devices = TrustedDevice.objects.filter(user=user)
        kept = 0
        if keep_token:
            keep = devices.filter(token_hash=token_hash(keep_token))
            kept = keep.count()
            devices = devices.exclude(token_hash=token_hash(keep_token))
        count, _ = devices.delete()
        if count:
            metadata = {"count": count, "reason": reason}
            if keep_token is not None:
                metadata["kept"] = kept
            audit(
                Action.DEVICE_FORGOTTEN,
                request=request,
                actor=None,
                user=user,
                metadata=metadata,
            )
    return count


# --- The emailed code -------------------------------------------------------------------


def _code_hash(challenge: NewDeviceChallenge, code: str) -> str:
    # Keyed with SECRET_KEY: a database dump does not give a 6-digit code away by brute
    # force. Bound to the challenge (so a code is useless for another sign-in) and to the
    # device token of the browser that signed in (so a copy of the pending session in
    # another browser, with another device cookie or none, cannot use it).
    return salted_hmac(
        "security.new-device-code", f"{challenge.pk}:{challenge.device_token_hash}:{code}"
    ).hexdigest()


def _new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def _send_code(request: HttpRequest, challenge: NewDeviceChallenge, code: str) -> None:

    client = client_context(request)
    send_email(
        to=challenge.user.email,
        template="new_device_code",
        context={
            "user": challenge.user,
            "code": code,
            "minutes": int(CODE_LIFETIME.total_seconds() // 60),
            "device": client.device.label,
            "ip": client.ip,
            "location": client.place.label,
            "reset_link": absolute_reverse("accounts:password_reset"),
        },
    )


def start_challenge(
    *, request: HttpRequest, user, token: str, otp_device: str | None = None
) -> NewDeviceChallenge:
    """Create the code for this pending sign-in and email it. The caller keeps the id in
    the pending sign-in's server-side session (``CHALLENGE_KEY``)."""
    code = _new_code()
    now = timezone.now()
    with transaction.atomic():
        challenge = NewDeviceChallenge.objects.create(
            user=user,
            code_hash="",
            device_token_hash=token_hash(token),
            ip=client_ip(request),
            code_expires_at=now + CODE_LIFETIME,
            last_sent_at=now,
        )
        challenge.code_hash = _code_hash(challenge, code)
        challenge.save(update_fields=["code_hash"])
        _send_code(request, challenge, code)
        audit(
            Action.NEW_DEVICE_CODE_SENT,
            request=request,
            actor=None,
            user=user,
            metadata={"challenge": challenge.pk},
        )
    request.session[CHALLENGE_KEY] = {
        "id": challenge.pk,
        "user_id": user.pk,
        "otp_device": otp_device,
    }
    return challenge


def challenge_otp_device(request: HttpRequest) -> str | None:
    data = request.session.get(CHALLENGE_KEY)
    return data.get("otp_device") if isinstance(data, dict) else None


def challenge_for(request: HttpRequest, user) -> NewDeviceChallenge | None:
    data = request.session.get(CHALLENGE_KEY)
    if not isinstance(data, dict) or data.get("user_id") != user.pk:
        return None
    return NewDeviceChallenge.objects.filter(
        pk=data.get("id"), user=user, used_at__isnull=True
    ).first()


def clear_challenge(request: HttpRequest) -> None:
    request.session.pop(CHALLENGE_KEY, None)


def resend(*, request: HttpRequest, challenge: NewDeviceChallenge) -> None:
    """Email a new code (the old one dies). The failure count is kept, here and in the
    lockout: asking for a new code gives no extra guesses."""
    if challenge.sends >= MAX_SENDS:
        raise ResendRefused("Too many codes were sent for this sign-in. Please sign in again.")
    code = _new_code()
    now = timezone.now()
    with transaction.atomic():
        challenge.code_hash = _code_hash(challenge, code)
        challenge.code_expires_at = now + CODE_LIFETIME
        challenge.last_sent_at = now
        challenge.sends += 1
        challenge.save(update_fields=["code_hash", "code_expires_at", "last_sent_at", "sends"])
        _send_code(request, challenge, code)
        audit(
            Action.NEW_DEVICE_CODE_SENT,
            request=request,
            actor=None,
            user=challenge.user,
            metadata={"challenge": challenge.pk, "resend": True},
        )


class CodeResult:
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"


def verify_code(
    *, request: HttpRequest, challenge: NewDeviceChallenge, code: str, token: str | None = None
) -> str:
    """Check a submitted code. Single use: a right code marks the challenge used.

    ``token`` is the device token of the browser submitting it (``current_token``): the
    code only works together with the token it was issued for, so a browser presenting
    another device cookie (or none) gets ``WRONG`` even with the right code.

    A wrong or expired code is audited and counted in the sign-in lockout (the caller
    reports it through the sign-in pipeline's failure hook).
    """
    code = "".join((code or "").split())
    now = timezone.now()
    with transaction.atomic():
        locked = NewDeviceChallenge.objects.select_for_update().get(pk=challenge.pk)
        same_device = bool(token) and hmac.compare_digest(
            locked.device_token_hash, token_hash(token)
        )
        if locked.used_at is not None:
            result = CodeResult.EXPIRED
        elif locked.attempts >= MAX_CODE_ATTEMPTS:
            result = CodeResult.EXHAUSTED
        elif now >= locked.code_expires_at:
            result = CodeResult.EXPIRED
        elif (
            same_device
            and len(code) == CODE_DIGITS
            and code.isdigit()
            and hmac.compare_digest(locked.code_hash, _code_hash(locked, code))
        ):
            locked.used_at = now
            locked.save(update_fields=["used_at"])
            return CodeResult.OK
        else:
            result = CodeResult.WRONG
        if result == CodeResult.WRONG:
            locked.attempts += 1
            locked.save(update_fields=["attempts"])
            if locked.attempts >= MAX_CODE_ATTEMPTS:
                result = CodeResult.EXHAUSTED
        audit(
            Action.NEW_DEVICE_CODE_FAILED,
            request=request,
            outcome="failure",
            actor=None,
            user=locked.user,
            metadata={
                "challenge": locked.pk,
                "result": result,
                "attempts": locked.attempts,
                "other_device": not same_device,
            },
        )
    challenge.attempts = locked.attempts
    return result


def device_page_url() -> str:
    return reverse("security:device_code")
