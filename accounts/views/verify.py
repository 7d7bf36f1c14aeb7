"""Email verification: follow the link, confirm with a button, or ask for a new link.

The emailed link ``/auth/verify/<token>/`` only moves the token into the session and
redirects (with ``Referrer-Policy: no-referrer``) to a page without it, as Django's
password reset does: the token never sits in an address bar, the history or a Referer.
Confirming is a POST, so a mail scanner that fetches links cannot verify an address.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from panel import ratelimits

from .. import services
from ..forms import EmailForm
from ..tokens import read_verification_token

SESSION_KEY = "_verify_email_token"


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/verify_invalid.html", status=400)


@login_not_required
@require_GET
def verify_link(request: HttpRequest, token: str) -> HttpResponse:
    if read_verification_token(token) is None:
        response = _invalid(request)
    else:
        request.session[SESSION_KEY] = token
        response = redirect("accounts:verify_confirm")
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
def verify_confirm(request: HttpRequest) -> HttpResponse:
    user = read_verification_token(request.session.get(SESSION_KEY, ""))
    if user is None:
        request.session.pop(SESSION_KEY, None)
        return _invalid(request)
    if request.method == "POST":
        services.verify_email(user=user, request=request)
        request.session.pop(SESSION_KEY, None)
        messages.success(request, "Your email address is confirmed. You can sign in now.")
        return redirect("security:login")
    return render(request, "accounts/verify_confirm.html", {"email": user.email})


@login_not_required
@require_http_methods(["GET", "POST"])
@ratelimit(
    group="accounts:resend:ip", key=ratelimits.ip_key, rate=ratelimits.RESEND_PER_IP, method="POST"
)
@ratelimit(
    group="accounts:resend:email",
    key=ratelimits.email_key,
    rate=ratelimits.RESEND_PER_EMAIL,
    method="POST",
    block=False,
)
def resend_view(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.resend_verification(
            email=form.cleaned_data["email"], request=request, send=not request.limited
        )
        return redirect("accounts:verify_sent")
    return render(
        request, "accounts/verify_resend.html", {"form": form}, status=400 if form.is_bound else 200
    )
