"""The sign-in pipeline: what happens after the password is checked.

Views call these; the two-factor step, device approval and session tracking hook in
here, so no path can skip them.
"""

from __future__ import annotations

from django.contrib.auth import login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from ..models import AuditEvent
from .audit import audit


def safe_next(request: HttpRequest, next_url: str | None) -> str | None:
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return None


def password_verified(request: HttpRequest, user, *, next_url: str | None = None) -> HttpResponse:
    """The password was right and the account may sign in: finish or start the next step."""
    return complete(request, user, method="password", next_url=next_url)


def complete(request: HttpRequest, user, *, method: str, next_url: str | None = None) -> HttpResponse:
    """Sign the user in (rotating the session key) and record it."""
    login(request, user, backend="accounts.backends.EmailOrUsernameBackend")
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


def sign_out(request: HttpRequest) -> None:
    user = request.user if request.user.is_authenticated else None
    if user is not None:
        audit("signout", request=request, user=user)
    logout(request)
