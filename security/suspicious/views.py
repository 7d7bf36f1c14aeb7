"""Held sign-ins, decided: the emailed Approve / Deny links, the "This wasn't me" link of
the new sign-in email, and approving or denying from a signed-in, trusted browser."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import not_while_impersonating
from security.devices import services as devices
from security.exceptions import DecisionRefused
from security.sessions import services as tracked
from security.suspicious import services as suspicious
from security.suspicious.models import SuspiciousSignIn


def done_page(request: HttpRequest, title: str, message: str, *, status: int = 200) -> HttpResponse:
    """The page an emailed link ends on."""
    return render(
        request,
        "security/suspicious/suspicious_done.html",
        {"title": title, "message": message},
        status=status,
    )


BAD_LINK = "This link is not valid any more. Links in these emails work once, for a limited time."


def _link_expired(request: HttpRequest) -> HttpResponse:
    return done_page(request, "Link expired", BAD_LINK, status=400)


@login_not_required
@require_http_methods(["GET", "POST"])
def signin_review(request: HttpRequest, token: str) -> HttpResponse:
    """The Approve / Deny link of the held sign-in email. GET only shows what the link
    will do (mail scanners follow links); the decision is a POST."""
    held, action = suspicious.read_decision_token(token)
    if held is None or held.status != SuspiciousSignIn.Status.PENDING or held.expired:
        return _link_expired(request)
    if request.method == "POST":
        try:
            if action == "approve":
                suspicious.approve(held=held, via="email", request=request)
                return done_page(
                    request, "Sign-in approved", "The browser that was waiting can continue now."
                )
            suspicious.deny(held=held, via="email", request=request)
        except DecisionRefused:
            return _link_expired(request)
        return done_page(
            request,
            "Your account is secured",
            "We stopped that sign-in, signed out every session and emailed you a link to set "
            "a new password. Until you do, nobody can sign in with the old one.",
        )
    return render(
        request, "security/suspicious/suspicious_review.html", {"held": held, "action": action}
    )


@login_not_required
@require_http_methods(["GET", "POST"])
def not_me(request: HttpRequest, token: str) -> HttpResponse:
    """ "This wasn't me" from a new sign-in email: the deny path for a completed sign-in."""
    record = tracked.read_report_token(token)
    if record is None or record.reported_at is not None:
        return _link_expired(request)
    if request.method == "POST":
        try:
            suspicious.report_not_me(record=record, request=request)
        except DecisionRefused:
            return _link_expired(request)
        return done_page(
            request,
            "Your account is secured",
            "We signed out every session, forgot every trusted device and emailed you a link "
            "to set a new password.",
        )
    return render(request, "security/suspicious/not_me.html", {"record": record})


@not_while_impersonating
@require_POST
def decide_held_signin(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve or deny a held sign-in from a signed-in session on a trusted browser."""
    if action not in ("approve", "deny"):
        raise Http404
    held = get_object_or_404(
        SuspiciousSignIn, pk=pk, user=request.user, status=SuspiciousSignIn.Status.PENDING
    )
    if not devices.trusted_device(request.user, devices.current_token(request)) is not None:
        messages.error(
            request, "Approve or deny it from a browser you have approved before, or use the email."
        )
        return redirect("security:sessions")
    try:
        if action == "approve":
            suspicious.approve(held=held, via="session", request=request)
            messages.success(request, "Sign-in approved. The waiting browser can continue now.")
        else:
            suspicious.deny(held=held, via="session", request=request)
            logout(request)
            messages.warning(
                request,
                "Sign-in denied. Every session was signed out; we emailed you a link to set a new password.",
            )
            return redirect("security:login")
    except DecisionRefused as exc:
        messages.error(request, str(exc))
    return redirect("security:sessions")
