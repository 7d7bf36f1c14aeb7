"""The step-up page: "Confirm it's you" with the password or a current 2FA code, valid
for 15 minutes, before a sensitive action (revoking a session)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.tabs import settings_tabs
from panel import ratelimits
from panel.links import safe_next
from security.lockout.axes import locked_response
from security.lockout.decorators import lockout_guarded
from security.stepup import services as stepup_services
from security.twofactor.totp import has_totp


class StepUpPasswordForm(forms.Form):
    password = forms.CharField(
        label="Password",
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class StepUpCodeForm(forms.Form):
    code = forms.CharField(
        label="Authentication code",
        max_length=20,
        help_text="The 6-digit code your authenticator app shows now.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "code-input"}
        ),
    )


@require_http_methods(["GET", "POST"])
@ratelimit(key="user", rate=ratelimits.STEPUP_PER_USER, method="POST", group="stepup", block=False)
@lockout_guarded
def stepup(request: HttpRequest) -> HttpResponse:
    """ "Confirm it's you": the password (or a 2FA code) again, valid 15 minutes."""
    next_url = safe_next(
        request, request.POST.get("next") or request.GET.get("next"), reverse("security:sessions")
    )
    has_code = has_totp(request.user)
    use_code = has_code and (request.POST.get("factor") or request.GET.get("factor")) == "code"
    form_class = StepUpCodeForm if use_code else StepUpPasswordForm
    form = form_class(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, "Too many attempts. Please wait a minute and try again.")
        status = 429
    elif request.method == "POST" and form.is_valid():
        result = stepup_services.stepup(
            request=request,
            password=form.cleaned_data.get("password", ""),
            code=form.cleaned_data.get("code", ""),
        )
        if result is True:
            return redirect(next_url)
        if getattr(result, "locked", False):
            return locked_response(request, result)
        form.add_error(
            None, "That code is not right." if use_code else "That password is not correct."
        )
        status = 400
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "security/stepup/stepup.html",
        {
            "settings_tabs": settings_tabs("sessions"),
            "form": form,
            "next": next_url,
            "use_code": use_code,
            "has_code": has_code,
            "minutes": stepup_services.STEPUP_SECONDS // 60,
        },
        status=status,
    )
