"""Sign-in steps of issue 4: the new-device code, the held sign-in waiting page, and the
emailed Approve / Deny / "This wasn't me" links."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from panel import ratelimits
from panel.net import client_ip
from security.devices import services as devices
from security.lockout import policy as lockout
from security.lockout.axes import locked_response, refused_pending_response
from security.sessions import services as tracked
from security.signin import pending, pipeline as signin
from security.signin.middleware import STAGE_URL_NAMES
from security.suspicious import services as suspicious
from security.suspicious.models import SuspiciousSignIn

EXPIRED = "Your sign-in expired. Please sign in again."
BAD_LINK = "This link is not valid any more. Links in these emails work once, for a limited time."


class DeviceCodeForm(forms.Form):
    code = forms.CharField(
        label="Verification code",
        max_length=20,
        help_text="The 6-digit code we emailed you.",
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
                "class": "code-input",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        code = "".join(self.cleaned_data["code"].split())
        if len(code) != devices.CODE_DIGITS or not code.isascii() or not code.isdigit():
            raise forms.ValidationError("Enter the 6-digit code from the email.")
        return code


def _device_state(request: HttpRequest):
    """(pending sign-in, user, challenge) for the device step, or Nones."""
    state = pending.get(request)
    user = state.user() if state is not None and state.stage == "device" else None
    challenge = devices.challenge_for(request, user) if user is not None else None
    return state, user, challenge


def _restart(request: HttpRequest, message: str = EXPIRED) -> HttpResponse:
    """End the device-code step (its pending sign-in and challenge) and start over."""
    pending.clear(request)
    devices.clear_challenge(request)
    messages.info(request, message)
    return redirect("accounts:login")


def _restart_held(request: HttpRequest, message: str = EXPIRED) -> HttpResponse:
    """End the held sign-in and start over. Only the hold is cleared: a sign-in that
    this browser began since (waiting at another step) is not this page's to end."""
    request.session.pop(suspicious.HELD_KEY, None)
    messages.info(request, message)
    return redirect("accounts:login")


def _signed_in_already(request: HttpRequest) -> HttpResponse | None:
    """A signed-in browser on a sign-in step (a bookmark, the back button) goes to the
    dashboard: nothing expired, and nothing of its session is touched."""
    return redirect("dashboard") if request.user.is_authenticated else None


def _at_another_step(request: HttpRequest, stage: str | None) -> HttpResponse | None:
    """A sign-in waiting at a step other than ``stage`` (2FA, device code) is sent to
    that step's page, untouched: it is not this page's to end."""
    state = pending.get(request)
    if state is None or state.stage == stage:
        return None
    return redirect(STAGE_URL_NAMES.get(state.stage, "accounts:login"))


def _done(request: HttpRequest, title: str, message: str, *, status: int = 200) -> HttpResponse:
    """The page an emailed link ends on."""
    return render(
        request,
        "security/suspicious_done.html",
        {"title": title, "message": message},
        status=status,
    )


def _link_expired(request: HttpRequest) -> HttpResponse:
    return _done(request, "Link expired", BAD_LINK, status=400)


def _mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    shown = local[:1] + "•" * max(1, min(len(local) - 1, 6))
    return f"{shown}@{domain}"


@login_not_required
@require_http_methods(["GET", "POST"])
def device_code(request: HttpRequest) -> HttpResponse:
    """/auth/device/: the emailed code for a sign-in from an unrecognised browser."""
    if (done := _signed_in_already(request)) is not None:
        return done
    state, user, challenge = _device_state(request)
    locked = (
        refused_pending_response(request, state)
        if user is None and state is not None and state.stage == "device"
        else None
    )
    if locked is not None:
        pending.clear(request)
        devices.clear_challenge(request)
        return locked
    if challenge is None:
        return _restart(request)
    lock = lockout.status_for(request, user.get_username())
    if lock.locked:
        pending.clear(request)
        devices.clear_challenge(request)
        return locked_response(request, lock)

    form = DeviceCodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        # The code is bound to the device cookie of the browser that signed in.
        token = devices.current_token(request)
        if form.is_valid():
            result = devices.verify_code(
                request=request, challenge=challenge, code=form.cleaned_data["code"], token=token
            )
        else:
            # A malformed code counts as a wrong one, and can exhaust the challenge too.
            result = devices.verify_code(request=request, challenge=challenge, code="", token=token)
        if result == devices.CodeResult.OK:
            otp_device = tracked.otp_device_from(devices.challenge_otp_device(request), user)
            devices.clear_challenge(request)
            devices.trust(request=request, user=user, token=token, via="emailed_code")
            return signin.complete(
                request, user, method=state.method, next_url=state.next_url, device=otp_device
            )
        if result != devices.CodeResult.EXPIRED:
            # A wrong code counts on the sign-in lockout counter (resending does not reset it).
            lock = lockout.record_failure(request, login=user.get_username())
            if lock.locked:
                devices.clear_challenge(request)
                pending.clear(request)
                return locked_response(request, lock)
        if result == devices.CodeResult.EXHAUSTED:
            return _restart(request, "Too many wrong codes. Please sign in again.")
        status = 400
        if result == devices.CodeResult.EXPIRED:
            form.errors.clear()
            form.add_error("code", "This code has expired. Ask for a new code below.")
        elif form.is_valid():
            form.add_error("code", "That code is not right. Check the latest email and try again.")
    return render(
        request,
        "security/device_code.html",
        {
            "form": form,
            "email": _mask_email(user.email),
            "minutes": int(devices.CODE_LIFETIME.total_seconds() // 60),
        },
        status=status,
    )


def _resend_key(group: str, request: HttpRequest) -> str:
    data = request.session.get(devices.CHALLENGE_KEY) or {}
    return (
        f"user:{data.get('user_id')}"
        if isinstance(data, dict) and data.get("user_id")
        else client_ip(request)
    )


@login_not_required
@require_POST
def device_code_resend(request: HttpRequest) -> HttpResponse:
    """Email a new code. Rate-limited per sign-in user and per IP; the failure count stays."""
    if (done := _signed_in_already(request) or _at_another_step(request, "device")) is not None:
        return done
    _state, user, challenge = _device_state(request)
    if challenge is None:
        return _restart(request)
    limited = is_ratelimited(
        request,
        group="device-code-resend",
        key=_resend_key,
        rate=ratelimits.DEVICE_CODE_RESEND_PER_USER,
        method="POST",
        increment=True,
    ) or is_ratelimited(
        request,
        group="device-code-resend-ip",
        # The client's address (X-Forwarded-For behind trusted proxies), not the proxy's.
        key=ratelimits.ip_key,
        rate=ratelimits.DEVICE_CODE_RESEND_PER_IP,
        method="POST",
        increment=True,
    )
    if limited:
        messages.error(
            request, "A code was sent recently. Please wait a few minutes before asking again."
        )
        return redirect("security:device_code")
    try:
        devices.resend(request=request, challenge=challenge)
    except devices.ResendRefused as exc:
        return _restart(request, str(exc))
    messages.success(request, "We sent a new code. Only the newest code works.")
    return redirect("security:device_code")


# --- Held sign-ins ------------------------------------------------------------------------


@login_not_required
@require_http_methods(["GET", "POST"])
def signin_held(request: HttpRequest) -> HttpResponse:
    """/auth/held/: wait for the owner's approval. Works without JavaScript: the page
    refreshes itself and has a "Check again" button; once approved, this finishes."""
    if (done := _signed_in_already(request)) is not None:
        return done
    held, data = suspicious.held_for(request)
    if held is None:
        return _at_another_step(request, None) or _restart_held(request)
    token = devices.current_token(request)
    if not suspicious.held_by_this_browser(held, token):
        # A copy of the waiting session in another browser: it may neither finish nor
        # cancel the sign-in (the session data is shared with the real one).
        return _done(
            request,
            "Continue in the other browser",
            "This sign-in is waiting in the browser it was started from. Continue there.",
            status=403,
        )
    if request.method == "POST" and request.POST.get("cancel"):
        request.session.pop(suspicious.HELD_KEY, None)
        suspicious.cancel(held=held, request=request)
        messages.info(request, "Sign-in cancelled.")
        return redirect("accounts:login")
    approved = held.status == SuspiciousSignIn.Status.APPROVED and held.user.is_active
    if approved and suspicious.complete_held(held=held):
        request.session.pop(suspicious.HELD_KEY, None)
        devices.trust(request=request, user=held.user, token=token, via="approval")
        return signin.complete(
            request,
            held.user,
            method=data.get("method") or "password",
            next_url=data.get("next"),
            device=tracked.otp_device_from(data.get("otp_device"), held.user),
        )
    if held.status == SuspiciousSignIn.Status.DENIED:
        request.session.pop(suspicious.HELD_KEY, None)
        messages.error(request, "This sign-in was denied.")
        return redirect("accounts:login")
    if held.status != SuspiciousSignIn.Status.PENDING or held.expired:
        return _restart_held(request, "The approval request expired. Please sign in again.")
    return render(
        request, "security/signin_held.html", {"held": held, "email": _mask_email(held.user.email)}
    )


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
                return _done(
                    request, "Sign-in approved", "The browser that was waiting can continue now."
                )
            suspicious.deny(held=held, via="email", request=request)
        except suspicious.DecisionRefused:
            return _link_expired(request)
        return _done(
            request,
            "Your account is secured",
            "We stopped that sign-in, signed out every session and emailed you a link to set "
            "a new password. Until you do, nobody can sign in with the old one.",
        )
    return render(request, "security/suspicious_review.html", {"held": held, "action": action})


@login_not_required
@require_http_methods(["GET", "POST"])
def not_me(request: HttpRequest, token: str) -> HttpResponse:
    """ "This wasn't me" from a new sign-in email: the deny path for a completed sign-in."""
    record = suspicious.read_report_token(token)
    if record is None or record.reported_at is not None:
        return _link_expired(request)
    if request.method == "POST":
        try:
            suspicious.report_not_me(record=record, request=request)
        except suspicious.DecisionRefused:
            return _link_expired(request)
        return _done(
            request,
            "Your account is secured",
            "We signed out every session, forgot every trusted device and emailed you a link "
            "to set a new password.",
        )
    return render(request, "security/not_me.html", {"record": record})
