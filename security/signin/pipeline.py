"""The sign-in pipeline: what happens after the password is checked. It speaks in values:
each function returns an outcome (``security.signin.outcomes``) and the views (or the
API) turn it into a page, a redirect or JSON.

    password_verified ──(2FA on)──> SecondFactorRequired ··· /auth/2fa/ ──> after_factors
            └──────────(2FA off)─────────────────────────────────────────> after_factors
    after_factors ──> the registered stages (security.signin.stages), in order:
        suspicious sign-in hold (Held), new-device code (DeviceCodeRequired), ...
    complete ──> Django's login() (rotates the session key) ──> tracked session
        ──> after-login hooks (device trust, new sign-in email, notices) ──> SignedIn

Every way in goes through ``complete()``, so no path skips a step; a paused sign-in (the
device code, an approval) comes back through ``resume()``.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device

from accounts.backends import disabled_account
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel.links import safe_next
from security.lockout import policy as lockout
from security.lockout.policy import account_named, login_for_audit
from security.sessions import services as sessions
from security.signin import pending, stages
from security.signin.outcomes import (
    LockedOut,
    Outcome,
    PasswordRefused,
    Restart,
    SecondFactorRequired,
    SignedIn,
)
from security.suspicious import services as suspicious
from security.twofactor.totp import has_2fa

BACKEND = "accounts.backends.EmailOrUsernameBackend"


def sign_in_with_password(
    request: HttpRequest, *, login: str, password: str, next_url: str | None = None
) -> Outcome:
    """The password step, for the sign-in page and the API alike: ``LockedOut``,
    ``PasswordRefused`` or what ``password_verified`` answers.

    The lock is checked before authenticate(): a locked pair costs no password hash, so a
    locked-out attacker cannot burn our CPU. Then the attempt reserves one of the pair's
    slots, atomically: however many requests arrive at once, at most AXES_FAILURE_LIMIT
    passwords of a pair are checked before it locks.
    """
    ip, username = lockout.pair_for(request, login)
    lock = lockout.acquire(request, ip=ip, username=username)
    if lock.locked:
        pending.clear(request)
        signin_refused(request, login=login, reason="locked")
        return LockedOut(lock=lock)
    user = authenticate(request, username=login, password=password)
    if user is not None:
        lockout.release(request)  # the password was right: the slot is given back
    if getattr(request, "axes_locked_out", False):
        # This failure reached the limit: the pair is locked now.
        password_failed(request, login=login, user=None)
        return LockedOut(lock=lockout.status_for(request, login))
    if user is not None and user.email_verified:
        return password_verified(request, user, next_url=next_url)
    # A disabled account (its right password given: accounts.backends marks the request)
    # is said so; the attempt counts on the lockout as a failure all the same.
    disabled = disabled_account(request) if user is None else None
    password_failed(request, login=login, user=user or disabled)
    return PasswordRefused(disabled=disabled is not None)


def password_verified(request: HttpRequest, user, *, next_url: str | None = None) -> Outcome:
    """The password was right and the account may sign in: finish or start the 2FA step.

    With 2FA on, the user is *not* signed in yet: a 5-minute pending state in the
    server-side session waits for the code at /auth/2fa/.
    """
    next_url = safe_next(request, next_url)
    if has_2fa(user):
        pending.start(request, user, stage="2fa", method="password", next_url=next_url)
        return SecondFactorRequired(user_id=user.pk)
    return after_factors(request, user, method="password", next_url=next_url)


def after_factors(
    request: HttpRequest, user, *, method: str, next_url: str | None = None, device=None
) -> Outcome:
    """Every factor the account requires has been checked (``method``: "password",
    "totp", "backup_code" or "passkey"). The registered stages may pause the sign-in (each saves
    what its step needs and answers its outcome); otherwise it completes now.
    ``device`` is the django-otp device that verified the second factor, if any."""
    attempt = stages.Attempt(
        request=request,
        user=user,
        method=method,
        next_url=next_url,
        otp_device=getattr(device, "persistent_id", None),
    )
    outcome = stages.run(attempt)
    if outcome is not None:
        return outcome
    return complete(request, user, method=method, next_url=next_url, device=device)


def otp_device_from(persistent_id: str | None, user):
    """The django-otp device a paused step remembered (None if gone or not the user's)."""
    if not persistent_id:
        return None
    device = Device.from_persistent_id(persistent_id)
    return device if device is not None and device.user_id == user.pk else None


def resume(
    request: HttpRequest, user, *, method: str, next_url: str | None, otp_device: str | None
) -> Outcome:
    """A paused sign-in finishes (the emailed code was right, or the owner approved):
    with the second-factor device its first half verified."""
    return complete(
        request,
        user,
        method=method,
        next_url=next_url,
        device=otp_device_from(otp_device, user),
    )


def complete(
    request: HttpRequest, user, *, method: str, next_url: str | None = None, device=None
) -> Outcome:
    """Sign the user in (Django's login() rotates the session key) and record it.

    ``device`` is the django-otp device that verified the second factor, if any; login()
    stores it in the session (django_otp's user_logged_in hook), so
    ``request.user.is_verified()`` is true for this session.
    """
    pending.clear(request)
    if device is None and has_2fa(user):
        # A sign-in that got past the password alone while the account had no 2FA (held
        # for approval, or waiting for an emailed code) and the owner turned 2FA on
        # meanwhile: it must not finish without the second factor. Start again.
        return Restart()
    if device is not None:
        user.otp_device = device
    login(request, user, backend=BACKEND)
    record = sessions.start_session(request, user, method=method)
    attempt = stages.Attempt(
        request=request,
        user=user,
        method=method,
        next_url=next_url,
        otp_device=getattr(device, "persistent_id", None),
    )
    notices = stages.run_after_login(attempt, record)
    audit(Action.SIGNIN, request=request, user=user, metadata={"method": method})
    return SignedIn(
        user_id=user.pk, method=method, next_url=safe_next(request, next_url), notices=notices
    )


def password_failed(request: HttpRequest, *, login: str, user=None) -> None:
    """Record a refused password step. ``user`` is set when the password was right but
    the account may not sign in (email not verified, or the account disabled).

    The typed login is recorded only when it names an account (and the event is then that
    account's); anything else is recorded as its keyed hash (``login_fingerprint``), so a
    password typed into the username field is never stored, while repeated attempts with
    the same unknown name can still be grouped.
    """
    if user is None:
        reason = "bad_credentials"
    else:
        reason = "unverified" if user.is_active else "disabled"
    account = user or account_named(login)
    audit(
        Action.SIGNIN,
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        user=account,
        metadata={**login_for_audit(login, account), "reason": reason},
    )


def signin_refused(request: HttpRequest, *, login: str | None, reason: str) -> None:
    """A sign-in refused before any password was checked, audited as a denied sign-in so
    that the audit trail accounts for the attempt: ``locked`` (its (IP, username) pair
    is locked; recorded each time, bounded by the per-address sign-in rate) or
    ``rate_limited`` (its address is over SIGNIN_RATE_LIMIT; recorded once per address
    and minute: the trail is append-only, and one row per refused request would let a
    flood fill it)."""
    if reason == "rate_limited":
        from django.core.cache import cache

        from panel.net import client_ip

        minute = int(timezone.now().timestamp() // 60)
        try:
            first = cache.add(f"signin-refused:{client_ip(request)}:{minute}", 1, timeout=120)
        except Exception:  # the cache is down: the request is refused all the same
            first = True
        if not first:
            return
    account = account_named(login)
    audit(
        Action.SIGNIN,
        request=request,
        outcome=AuditEvent.Outcome.DENIED,
        user=account,
        metadata={**login_for_audit(login, account), "reason": reason},
    )


def second_factor_failed(
    request: HttpRequest, user, *, method: str, reason: str = "invalid"
) -> lockout.LockStatus:
    """A wrong (or throttled) second-factor code: audit it and count it on the same
    (IP, username) counter as failed passwords. Returns the lock status afterwards; a
    lockout has already destroyed the pending sign-in.

    Reusable for any code typed during sign-in (the new-device code of issue 4 too).
    """
    audit(
        Action.TWO_FACTOR_FAILED,
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        user=user,
        metadata={"method": method, "reason": reason},
    )
    # The password was right: tell the owner (at most once an hour).
    suspicious.alert_second_factor_failed(request=request, user=user)
    return lockout.record_failure(request, login=user.get_username())


def sign_out(request: HttpRequest) -> None:
    """Sign out; this also ends a half-finished (pending) sign-in."""
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        audit(Action.SIGNOUT, request=request, user=user)
    pending.clear(request)
    logout(request)
