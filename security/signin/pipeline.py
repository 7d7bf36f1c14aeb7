"""The sign-in pipeline: what happens after the password is checked.

    password_verified ──(2FA on)──> pending "2fa" ──> /auth/2fa/ ──> after_factors
            └──────────(2FA off)─────────────────────────────────> after_factors
    after_factors ──> (new-device approval, suspicious sign-in holds: issue 4) ──> complete
    complete ──> django login() (rotates the session key) ──> audit "signin"

Views call these; every way in goes through ``complete()``, so no path skips a step.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from audit.models import AuditEvent
from audit.services import audit
from security.lockout import policy as lockout
from security.signin import pending
from security.twofactor.totp import has_2fa

BACKEND = "accounts.backends.EmailOrUsernameBackend"


def safe_next(request: HttpRequest, next_url: str | None) -> str | None:
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return None


def password_verified(request: HttpRequest, user, *, next_url: str | None = None) -> HttpResponse:
    """The password was right and the account may sign in: finish or start the 2FA step.

    With 2FA on, the user is *not* signed in yet: a 5-minute pending state in the
    server-side session waits for the code at /auth/2fa/.
    """
    if has_2fa(user):
        pending.start(
            request, user, stage="2fa", method="password", next_url=safe_next(request, next_url)
        )
        return redirect("security:twofactor_signin")
    return after_factors(request, user, method="password", next_url=next_url)


def after_factors(
    request: HttpRequest, user, *, method: str, next_url: str | None = None, device=None
) -> HttpResponse:
    """Every factor the account requires has been checked (``method``: "password",
    "totp" or "backup_code").

    This is the hook for the checks that come after the factors: new-device approval
    and suspicious sign-in holds (issue 4) go here, and may start their own pending
    stage instead of signing in (security.sessions.services.before_signin).
    """
    from security.sessions import services as tracked

    step = tracked.before_signin(request, user, method=method, next_url=next_url, device=device)
    if step is not None:
        return step
    return complete(request, user, method=method, next_url=next_url, device=device)


def complete(
    request: HttpRequest, user, *, method: str, next_url: str | None = None, device=None
) -> HttpResponse:
    """Sign the user in (django's login() rotates the session key) and record it.

    ``device`` is the django-otp device that verified the second factor, if any; login()
    stores it in the session (django_otp's user_logged_in hook), so
    ``request.user.is_verified()`` is true for this session.
    """
    pending.clear(request)
    if device is None and has_2fa(user):
        # A sign-in that got past the password alone while the account had no 2FA (held
        # for approval, or waiting for an emailed code) and the owner turned 2FA on
        # meanwhile: it must not finish without the second factor. Start again.
        messages.info(request, "Your sign-in expired. Please sign in again.")
        return redirect("accounts:login")
    if device is not None:
        user.otp_device = device
    login(request, user, backend=BACKEND)
    # Session tracking (issue 4): the tracked record, device trust, new sign-in email.
    from security.sessions import services as tracked

    tracked.after_signin(request, user, method=method)
    audit("signin", request=request, user=user, metadata={"method": method})
    return redirect(safe_next(request, next_url) or "dashboard")


def password_failed(request: HttpRequest, *, login: str, user=None) -> None:
    """Record a refused password step. ``user`` is set when the password was right but
    the account may not sign in yet (email not verified)."""
    reason = "unverified" if user is not None else "bad_credentials"
    audit(
        "signin",
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        user=user,
        metadata={"login": login[:254], "reason": reason},
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
        "2fa_failed",
        request=request,
        outcome=AuditEvent.Outcome.FAILURE,
        user=user,
        metadata={"method": method, "reason": reason},
    )
    # The password was right: tell the owner (at most once an hour; issue 4).
    from security.suspicious import services as suspicious

    suspicious.alert_second_factor_failed(request=request, user=user)
    return lockout.record_failure(request, login=user.get_username())


def sign_out(request: HttpRequest) -> None:
    """Sign out; this also ends a half-finished (pending) sign-in."""
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        audit("signout", request=request, user=user)
    pending.clear(request)
    logout(request)
