"""The step-up page: "Confirm it's you" with the password, a current 2FA code, a backup
code or a passkey, valid for 15 minutes, before a sensitive action (revoking a session).
With ``level=2fa`` (High Security Mode) only a second factor is offered and accepted.
After a success the user goes back to ``next``; when High Security Mode refused a form
post that could be kept (security.stepup.resume), the page offers to send it again."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.decorators import not_while_impersonating
from accounts.tabs import settings_tabs
from panel import ratelimits
from panel.links import safe_next
from security.lockout.axes import locked_response
from security.lockout.decorators import lockout_guarded
from security.passkeys import ceremony, services as passkeys
from security.passkeys.forms import CredentialForm
from security.stepup import resume, services as stepup_services
from security.stepup.middleware import LEVEL_2FA
from security.twofactor.totp import has_2fa, has_totp


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
        help_text="The 6-digit code your authenticator app shows now, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "code-input"}
        ),
    )


@not_while_impersonating
@require_http_methods(["GET", "POST"])
@ratelimit(key="user", rate=ratelimits.STEPUP_PER_USER, method="POST", group="stepup", block=False)
@lockout_guarded
def stepup(request: HttpRequest) -> HttpResponse:
    """ "Confirm it's you": the password, a 2FA code, a backup code or a passkey, valid 15
    minutes; with ``level=2fa`` (High Security Mode) a second factor only."""
    next_url = safe_next(
        request, request.POST.get("next") or request.GET.get("next"), reverse("security:sessions")
    )
    second_factor = (request.POST.get("level") or request.GET.get("level")) == LEVEL_2FA
    if second_factor and not has_2fa(request.user):
        messages.warning(
            request, "High Security Mode needs two-factor authentication: turn it on first."
        )
        return redirect("security:twofactor_enable")
    has_code = has_totp(request.user)
    with_passkey = ceremony.available() and passkeys.has_passkey(request.user)
    factor = request.POST.get("factor") or request.GET.get("factor")
    # High Security Mode takes a second factor only: no password form.
    use_code = has_code and (factor == "code" or second_factor)
    form_class = StepUpCodeForm if use_code else StepUpPasswordForm
    by_passkey = request.method == "POST" and factor == "passkey" and with_passkey
    form = form_class(request.POST if request.method == "POST" and not by_passkey else None)
    if second_factor and not use_code:
        form = None  # a passkey is this account's only second factor
    status = 200
    passkey_error = ""
    if by_passkey:
        status = 400
        answer = CredentialForm(request.POST)
        if getattr(request, "limited", False):
            passkeys.clear_ceremony(request)
            status = 429
            passkey_error = "Too many attempts. Please wait a minute and try again."
        elif not answer.is_valid() or answer.cleaned_data["credential"] is None:
            passkeys.clear_ceremony(request)
            passkey_error = (
                "The passkey prompt was closed or timed out. Try again, or use your password."
            )
        else:
            result = stepup_services.stepup_with_passkey(
                request=request, data=answer.cleaned_data["credential"]
            )
            if result is True:
                return _continue(request, next_url)
            if getattr(result, "locked", False):
                return locked_response(request, result)
            passkey_error = "That passkey could not be used. Try again, or use your password."
    elif request.method == "POST" and form is None:
        status = 400
    elif request.method == "POST" and getattr(request, "limited", False):
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
            return _continue(request, next_url)
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
            "with_passkey": with_passkey,
            "passkey_error": passkey_error,
            "second_factor": second_factor,
            "level": LEVEL_2FA if second_factor else "",
            "minutes": stepup_services.STEPUP_SECONDS // 60,
        },
        status=status,
    )


def _continue(request: HttpRequest, next_url: str) -> HttpResponse:
    """Back to the page; or, when a refused form post was kept for it, offer to send it
    again (with a fresh CSRF token)."""
    kept = resume.take(request, next_url)
    if kept is None:
        return redirect(next_url)
    return render(
        request,
        "security/stepup/resume.html",
        {"action": kept["path"], "fields": kept["fields"], "back": kept.get("back") or "/"},
    )


@not_while_impersonating
@require_POST
@ratelimit(key="user", rate=ratelimits.STEPUP_PER_USER, method="POST", group="stepup", block=True)
def stepup_passkey_options(request: HttpRequest) -> HttpResponse:
    """JSON: the options of ``navigator.credentials.get()`` for a step-up with one of the
    signed-in user's passkeys."""
    if not ceremony.available() or not passkeys.has_passkey(request.user):
        return JsonResponse({"error": "You have no passkey to use here."}, status=400)
    return JsonResponse(
        passkeys.authenticate_begin(request=request, purpose="stepup", user=request.user)
    )
