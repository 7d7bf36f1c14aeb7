"""Sign up, and the "check your email" pages that follow the public email forms."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from panel import ratelimits

from .. import services
from ..forms import SignupForm
from ..models import User

SENT_TO_KEY = "_signup_sent_to"


@login_not_required
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
@ratelimit(
    group="accounts:signup:ip", key=ratelimits.ip_key, rate=ratelimits.SIGNUP_PER_IP, method="POST"
)
@ratelimit(
    group="accounts:signup:email",
    key=ratelimits.email_key,
    rate=ratelimits.SIGNUP_PER_EMAIL,
    method="POST",
    block=False,
)
def signup_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # Shown on the next page (so that a typo can be spotted), kept server-side in
        # this browser's session, never in the URL. It is what this visitor typed,
        # normalised as the email was addressed, whether or not it had an account.
        request.session[SENT_TO_KEY] = User.objects.normalize_email(
            form.cleaned_data["email"].strip()
        )
        services.signup(
            email=form.cleaned_data["email"],
            full_name=form.cleaned_data["full_name"],
            password=form.cleaned_data["password1"],
            request=request,
            send=not request.limited,
            extra=form.extra,
        )
        # The same page whether the address was new or already had an account.
        return redirect("accounts:signup_done")
    return render(
        request, "accounts/signup.html", {"form": form}, status=400 if form.is_bound else 200
    )


CHECK_EMAIL_PAGES = {
    "signup": {
        "title": "Check your email",
        "lead": "We've sent you a link to confirm your email address.",
        "detail": (
            "Open the link in the email to activate your account, then sign in. "
            "The link works for 24 hours."
        ),
    },
    "verify": {
        "title": "Check your email",
        "lead": "If that address belongs to an account that still needs confirming, "
        "we've sent it a new link.",
        "detail": "The link works for 24 hours. If nothing arrives, check your spam folder.",
    },
    "reset": {
        "title": "Check your email",
        "lead": "If that address belongs to an account, we've sent it a link to choose "
        "a new password.",
        "detail": "The link works for one hour and only once.",
    },
}


@login_not_required
@require_GET
def check_email(request: HttpRequest, kind: str) -> HttpResponse:
    context = {"kind": kind, **CHECK_EMAIL_PAGES[kind]}
    if kind == "signup":
        context["sent_to"] = request.session.get(SENT_TO_KEY, "")
    return render(request, "accounts/check_email.html", context)
