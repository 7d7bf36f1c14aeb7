"""Profile > Settings > Sessions: list, revoke (after a step-up), held sign-ins, devices."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.tabs import settings_tabs
from panel import ratelimits
from panel.links import safe_next
from security.devices import services as devices
from security.devices.models import TrustedDevice
from security.lockout.axes import locked_response
from security.lockout.decorators import refuse_while_locked
from security.sessions import services as tracked
from security.sessions.models import TrackedSession
from security.suspicious import services as suspicious
from security.suspicious.models import SuspiciousSignIn


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


def _live_sessions(request: HttpRequest) -> list[TrackedSession]:
    current = tracked.current_id(request)
    rows = list(tracked.listed_for(request.user).order_by("-last_active_at", "-id"))
    for row in rows:
        row.is_current = row.pk == current
    rows.sort(key=lambda r: not r.is_current)  # this browser first
    return rows


def _this_device_trusted(request: HttpRequest) -> bool:
    return devices.trusted_device(request.user, devices.current_token(request)) is not None


def _stepup_redirect(request: HttpRequest) -> HttpResponse:
    return redirect(reverse("security:stepup") + "?" + urlencode({"next": request.get_full_path()}))


@require_http_methods(["GET"])
def sessions_tab(request: HttpRequest) -> HttpResponse:
    trusted_here = _this_device_trusted(request)
    held = list(suspicious.pending_for(request.user)) if trusted_here else []
    policy = tracked.policy_for(request.user)
    return render(
        request,
        "security/sessions.html",
        {
            "settings_tabs": settings_tabs("sessions"),
            "sessions": _live_sessions(request),
            "held_signins": held,
            "policy": policy,
            "idle_minutes": policy.idle_timeout // 60,
            "absolute_hours": policy.absolute_timeout // 3600,
        },
    )


@require_http_methods(["GET", "POST"])
def revoke_session(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then sign one other session out. Needs a step-up within 15 minutes."""
    record = get_object_or_404(tracked.active_for(request.user), pk=pk)
    if record.pk == tracked.current_id(request):
        messages.info(request, "To end this session, use Sign out.")
        return redirect("security:sessions")
    if not tracked.stepup_is_recent(request):
        return _stepup_redirect(request)
    if request.method == "POST":
        tracked.revoke(request=request, record=record)
        messages.success(request, f"The session on {record.device_label} was signed out.")
        return redirect("security:sessions")
    return render(
        request,
        "security/sessions_revoke.html",
        {"settings_tabs": settings_tabs("sessions"), "record": record},
    )


@require_http_methods(["GET", "POST"])
def revoke_other_sessions(request: HttpRequest) -> HttpResponse:
    others = [s for s in _live_sessions(request) if not s.is_current]
    if not others:
        messages.info(request, "You have no other sessions.")
        return redirect("security:sessions")
    if not tracked.stepup_is_recent(request):
        return _stepup_redirect(request)
    if request.method == "POST":
        count = tracked.revoke_others(request=request)
        messages.success(request, f"Signed out {count} other session{'s' if count != 1 else ''}.")
        return redirect("security:sessions")
    return render(
        request,
        "security/sessions_revoke_all.html",
        {"settings_tabs": settings_tabs("sessions"), "others": others},
    )


@require_http_methods(["GET", "POST"])
@ratelimit(key="user", rate=ratelimits.STEPUP_PER_USER, method="POST", group="stepup", block=False)
@refuse_while_locked
def stepup(request: HttpRequest) -> HttpResponse:
    """ "Confirm it's you": the password (or a 2FA code) again, valid 15 minutes."""
    next_url = safe_next(
        request, request.POST.get("next") or request.GET.get("next"), reverse("security:sessions")
    )
    has_code = tracked.has_second_factor(request.user)
    use_code = has_code and (request.POST.get("factor") or request.GET.get("factor")) == "code"
    form_class = StepUpCodeForm if use_code else StepUpPasswordForm
    form = form_class(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and getattr(request, "limited", False):
        form.is_valid()
        form.add_error(None, "Too many attempts. Please wait a minute and try again.")
        status = 429
    elif request.method == "POST" and form.is_valid():
        result = tracked.stepup(
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
        "security/stepup.html",
        {
            "settings_tabs": settings_tabs("sessions"),
            "form": form,
            "next": next_url,
            "use_code": use_code,
            "has_code": has_code,
            "minutes": tracked.STEPUP_SECONDS // 60,
        },
        status=status,
    )


@require_POST
def decide_held_signin(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve or deny a held sign-in from a signed-in session on a trusted browser."""
    if action not in ("approve", "deny"):
        raise Http404
    held = get_object_or_404(
        SuspiciousSignIn, pk=pk, user=request.user, status=SuspiciousSignIn.Status.PENDING
    )
    if not _this_device_trusted(request):
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
            return redirect("accounts:login")
    except suspicious.DecisionRefused as exc:
        messages.error(request, str(exc))
    return redirect("security:sessions")


@require_POST
def forget_device(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(TrustedDevice, pk=pk, user=request.user)
    devices.forget(request=request, device=device)
    messages.success(
        request, f"{device.name or 'The device'} will need an emailed code at its next sign-in."
    )
    return redirect("accounts:settings_security")
