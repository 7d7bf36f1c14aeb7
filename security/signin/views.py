"""The sign-in pages: the password form, the second-factor step, the emailed new-device
code, the held sign-in's waiting page, and sign-out. Thin: each page parses its form,
calls the pipeline (``security.signin.pipeline``) and turns the outcome into a response
(``respond``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit

from accounts.backends import DISABLED_MESSAGE
from accounts.forms import LOGIN_FAILED, LoginForm
from panel import ratelimits
from panel.links import safe_next
from panel.net import client_ip
from panel.views import ratelimited
from security.blocking.decorators import block_exempt
from security.devices import services as devices
from security.exceptions import PasskeyRefused, ResendRefused
from security.lockout import policy as lockout
from security.lockout.axes import locked_message, locked_response, refused_pending_response
from security.passkeys import ceremony, services as passkeys
from security.passkeys.forms import CredentialForm
from security.signin import pending, pipeline as signin
from security.signin.outcomes import (
    DeviceCodeRequired,
    Held,
    LockedOut,
    Outcome,
    PasswordRefused,
    Restart,
    SecondFactorRequired,
    SignedIn,
    StepRequired,
)
from security.signin.stages import STAGE_URL_NAMES
from security.suspicious import services as suspicious
from security.suspicious.models import SuspiciousSignIn
from security.suspicious.views import done_page
from security.twofactor import totp
from security.twofactor.forms import BackupCodeForm, TOTPCodeForm


def respond(request: HttpRequest, outcome: Outcome) -> HttpResponse:
    """The page answer to a pipeline outcome: the next step's page, or the signed-in
    user's destination with the outcome's notices as messages."""
    if isinstance(outcome, SignedIn):
        for notice in outcome.notices:
            messages.warning(request, notice)
        return redirect(outcome.next_url or "dashboard")
    if isinstance(outcome, SecondFactorRequired):
        return redirect("security:twofactor_signin")
    if isinstance(outcome, DeviceCodeRequired):
        return redirect("security:device_code")
    if isinstance(outcome, Held):
        return redirect("security:signin_held")
    if isinstance(outcome, StepRequired):
        return redirect(STAGE_URL_NAMES[outcome.stage])
    if isinstance(outcome, Restart):
        messages.info(request, outcome.message)
        return redirect("security:login")
    raise TypeError(f"No page for the sign-in outcome {outcome!r}.")


def _form_status(request: HttpRequest) -> int:
    """A form shown again after a POST was refused: 400, as every form of the panel."""
    return 400 if request.method == "POST" else 200


@login_not_required
@require_http_methods(["GET", "POST"])
@ratelimit(
    key=ratelimits.ip_key, rate=ratelimits.signin_rate, method="POST", group="signin", block=False
)
def login_view(request: HttpRequest) -> HttpResponse:
    if getattr(request, "limited", False):
        # Over the per-address sign-in rate: refused (429) before anything is checked.
        signin.signin_refused(request, login=request.POST.get("username"), reason="rate_limited")
        return ratelimited(request)
    if request.user.is_authenticated:
        return redirect("dashboard")
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        outcome = signin.sign_in_with_password(
            request,
            login=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            next_url=request.GET.get("next"),
        )
        if isinstance(outcome, LockedOut):
            return locked_response(request, outcome.lock)
        if not isinstance(outcome, PasswordRefused):
            return respond(request, outcome)
        # A disabled account is said so only once its right password was given (and the
        # attempt was counted on the lockout as a failure all the same).
        form.add_error(None, DISABLED_MESSAGE if outcome.disabled else LOGIN_FAILED)
    # A refused sign-in (unknown user, wrong password, unverified address alike) is a 400,
    # as every form of the panel answers bad input: the same status and body for each.
    return _render_login(request, form, status=400 if form.is_bound else 200)


def _render_login(
    request: HttpRequest, form: LoginForm, *, status: int, passkey_error: str = ""
) -> HttpResponse:
    """The sign-in page. Where passkeys work, the username field also offers them in the
    browser's autofill (``autocomplete="username webauthn"``: the passkey script's
    conditional request, its challenge refreshed before ``CEREMONY_SECONDS`` end)."""
    available = ceremony.available()
    if available:
        form.fields["username"].widget.attrs["autocomplete"] = "username webauthn"
    return render(
        request,
        "security/signin/login.html",
        {
            "form": form,
            "passkeys_available": available,
            "passkey_error": passkey_error,
            "passkey_challenge_seconds": passkeys.CEREMONY_SECONDS,
        },
        status=status,
    )


@login_not_required
@block_exempt
@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    signin.sign_out(request)
    messages.info(request, "You have been signed out.")
    response = redirect("security:login")
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@login_not_required
@require_http_methods(["GET", "POST"])
@ratelimit(
    key=ratelimits.ip_key, rate=ratelimits.two_factor_rate, method="POST", group="2fa", block=True
)
def twofactor_signin(request: HttpRequest) -> HttpResponse:
    """/auth/2fa/: the second step after a correct password (pending stage "2fa")."""
    if request.user.is_authenticated:
        # Already signed in (a bookmark, the back button): nothing expired.
        return redirect("dashboard")
    state = pending.get(request)
    user = state.user() if state is not None and state.stage == "2fa" else None
    if user is None:
        pending.clear(request)
        if (locked := refused_pending_response(request, state)) is not None:
            return locked
        messages.info(request, "Your sign-in expired. Please sign in again.")
        return redirect("security:login")

    lock = lockout.status_for(request, user.get_username())
    if lock.locked:
        pending.clear(request)
        return locked_response(request, lock)

    chosen = request.POST.get("method") or request.GET.get("method")
    if request.method == "POST" and chosen == "passkey":
        return _passkey_second_factor(request, state, user)
    return _twofactor_page(request, state, user, chosen=chosen)


PASSKEY_CANCELLED = "The passkey prompt was closed or timed out. Try again, or use another way."


def _twofactor_page(
    request: HttpRequest, state, user, *, chosen: str | None, passkey_error: str = ""
) -> HttpResponse:
    """The 2FA step: "Use your passkey" first when the account has one, the
    authenticator app's code or a backup code as the other ways."""
    device = totp.confirmed_device(user)
    with_totp = device is not None
    with_passkey = ceremony.available() and passkeys.has_passkey(user)
    use_backup = chosen == "backup"
    unreadable = device is not None and not use_backup and not totp.secret_readable(device)
    if unreadable:
        use_backup = True
    form_class = BackupCodeForm if use_backup else TOTPCodeForm
    method = "backup_code" if use_backup else "totp"
    posted_code = request.method == "POST" and chosen != "passkey"
    data = request.POST if posted_code and not unreadable else None
    form = form_class(data)

    if data is not None and form.is_valid():
        result = totp.verify_second_factor(
            user=user, code=form.cleaned_data["code"], method=method, request=request
        )
        if result.ok:
            return respond(
                request,
                signin.after_factors(
                    request, user, method=method, next_url=state.next_url, device=result.device
                ),
            )
        if result.reason == "unreadable":
            # Not the user's fault: not counted as a failed attempt.
            form.add_error(None, result.message)
        else:
            lock = signin.second_factor_failed(request, user, method=method, reason=result.reason)
            if lock.locked:
                return locked_response(request, lock)
            form.add_error("code", result.message)

    return render(
        request,
        "security/signin/twofactor_signin.html",
        {
            "form": form,
            "use_backup": use_backup,
            "unreadable": unreadable,
            "unreadable_message": totp.UNREADABLE_MESSAGE,
            "with_totp": with_totp,
            "with_passkey": with_passkey,
            "passkey_error": passkey_error,
            "totp_url": reverse("security:twofactor_signin"),
            "backup_url": reverse("security:twofactor_signin")
            + "?"
            + urlencode({"method": "backup"}),
        },
        status=400 if request.method == "POST" else 200,
    )


def _passkey_second_factor(request: HttpRequest, state, user) -> HttpResponse:
    """The passkey's answer at /auth/2fa/. A refused one is audited and counted on the
    lockout like a wrong code; a dismissed prompt is neither (the other ways stay)."""
    answer = CredentialForm(request.POST)
    if not answer.is_valid() or answer.cleaned_data["credential"] is None:
        passkeys.clear_ceremony(request)
        message = (
            PASSKEY_CANCELLED
            if answer.is_valid() and answer.cleaned_data["error"]
            else "Your browser did not send a passkey. Try again, or use another way."
        )
        return _twofactor_page(request, state, user, chosen="passkey", passkey_error=message)
    try:
        credential = passkeys.authenticate_complete(
            request=request, purpose="2fa", user=user, data=answer.cleaned_data["credential"]
        )
    except PasskeyRefused as refusal:
        if refusal.reason == "counter":
            passkeys.record_refusal(request=request, refusal=refusal, ceremony="2fa")
        lock = signin.second_factor_failed(request, user, method="passkey", reason=refusal.reason)
        if lock.locked:
            return locked_response(request, lock)
        return _twofactor_page(
            request, state, user, chosen="passkey", passkey_error=refusal.message
        )
    return respond(
        request,
        signin.after_factors(
            request, user, method="passkey", next_url=state.next_url, device=credential
        ),
    )


@login_not_required
@require_POST
@ratelimit(
    key=ratelimits.ip_key, rate=ratelimits.two_factor_rate, method="POST", group="2fa", block=True
)
def twofactor_passkey_options(request: HttpRequest) -> HttpResponse:
    """JSON: the options of ``navigator.credentials.get()`` for the pending sign-in's
    passkeys. The challenge is kept for this sign-in only and expires with it."""
    state = pending.get(request)
    user = state.user() if state is not None and state.stage == "2fa" else None
    if user is None or request.user.is_authenticated:
        return JsonResponse({"error": EXPIRED}, status=400)
    if not passkeys.has_passkey(user) or not ceremony.available():
        return JsonResponse({"error": "No passkey can be used here."}, status=400)
    return JsonResponse(passkeys.authenticate_begin(request=request, purpose="2fa", user=user))


def _login_page(request: HttpRequest, *, error: str, status: int = 400) -> HttpResponse:
    return _render_login(request, LoginForm(), status=status, passkey_error=error)


@login_not_required
@require_POST
@ratelimit(
    key=ratelimits.ip_key,
    rate=ratelimits.PASSKEY_SIGNIN_OPTIONS_PER_IP,
    method="POST",
    group="passkey-signin-options",
    block=True,
)
def passkey_signin_options(request: HttpRequest) -> HttpResponse:
    """JSON: the options of a passwordless ``navigator.credentials.get()``: no user is
    named (discoverable credentials), user verification required. The sign-in page's
    script asks on load (the browser's autofill of passkeys) and again before the
    challenge's five minutes end; the button asks for its own. Each replaces the last:
    the session keeps one challenge, used once."""
    if request.user.is_authenticated:
        return JsonResponse({"error": "You are signed in already."}, status=400)
    if not ceremony.available():
        return JsonResponse({"error": "Passkeys are not available on this site."}, status=400)
    lock = lockout.status(ip=client_ip(request), username=lockout.UNKNOWN_PASSKEY)
    if lock.locked:
        return JsonResponse({"error": locked_message(lock.seconds)}, status=429)
    return JsonResponse(passkeys.authenticate_begin(request=request, purpose="passwordless"))


@login_not_required
@require_POST
@ratelimit(
    key=ratelimits.ip_key,
    rate=ratelimits.PASSKEY_SIGNIN_PER_IP,
    method="POST",
    group="passkey-signin",
    block=True,
)
def passkey_signin(request: HttpRequest) -> HttpResponse:
    """Passwordless sign-in: a passkey (with user verification) is both factors. The
    sign-in then meets the same stages (new device, suspicious, ...) as any other."""
    if request.user.is_authenticated:
        return redirect("dashboard")
    answer = CredentialForm(request.POST)
    if not answer.is_valid() or answer.cleaned_data["credential"] is None:
        passkeys.clear_ceremony(request)
        if answer.is_valid() and answer.cleaned_data["error"]:
            messages.info(request, "The passkey prompt was closed or timed out.")
            return redirect("security:login")
        return _login_page(request, error="Your browser did not send a passkey. Please try again.")
    # An answer that names no account has no account's counter: it counts on this
    # address's counter of such answers (``UNKNOWN_PASSKEY``), as a typed name that is
    # not an account does. Its slot is taken before anything is checked, so a burst
    # cannot slip past the limit, and while it is locked no passwordless answer from
    # this address is checked at all.
    lock = lockout.acquire(request, ip=client_ip(request), username=lockout.UNKNOWN_PASSKEY)
    if lock.locked:
        passkeys.clear_ceremony(request)
        return locked_response(request, lock)
    try:
        credential = passkeys.authenticate_complete(
            request=request, purpose="passwordless", data=answer.cleaned_data["credential"]
        )
    except PasskeyRefused as refusal:
        passkeys.record_refusal(request=request, refusal=refusal, ceremony="passwordless")
        if refusal.user is not None:
            # The credential is an account's: the failure counts on the owner's counter.
            lockout.release(request)
            login = refusal.user.get_username()
        else:
            login = lockout.UNKNOWN_PASSKEY
        lock = lockout.record_failure(request, login=login)
        if lock.locked:
            return locked_response(request, lock)
        return _login_page(request, error=refusal.message)
    lockout.release(request)
    user = credential.user
    lock = lockout.status_for(request, user.get_username())
    if lock.locked:
        return locked_response(request, lock)
    if not user.is_active or not user.email_verified:
        signin.password_failed(request, login=user.get_username(), user=user)
        # The passkey proved who this is, as the right password does: say it is disabled.
        return _login_page(request, error=LOGIN_FAILED if user.is_active else DISABLED_MESSAGE)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    pending.clear(request)
    return respond(
        request,
        signin.after_factors(request, user, method="passkey", next_url=next_url, device=credential),
    )


EXPIRED = "Your sign-in expired. Please sign in again."


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
    return redirect("security:login")


def _restart_held(request: HttpRequest, message: str = EXPIRED) -> HttpResponse:
    """End the held sign-in and start over. Only the hold is cleared: a sign-in that
    this browser began since (waiting at another step) is not this page's to end."""
    request.session.pop(suspicious.HELD_KEY, None)
    messages.info(request, message)
    return redirect("security:login")


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
    return redirect(STAGE_URL_NAMES.get(state.stage, "security:login"))


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
            otp_device = devices.challenge_otp_device(request)
            devices.clear_challenge(request)
            devices.trust(request=request, user=user, token=token, via="emailed_code")
            outcome = signin.resume(
                request, user, method=state.method, next_url=state.next_url, otp_device=otp_device
            )
            return respond(request, outcome)
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
        "security/signin/device_code.html",
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
    except ResendRefused as exc:
        return _restart(request, str(exc))
    messages.success(request, "We sent a new code. Only the newest code works.")
    return redirect("security:device_code")


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
        return done_page(
            request,
            "Continue in the other browser",
            "This sign-in is waiting in the browser it was started from. Continue there.",
            status=403,
        )
    if request.method == "POST" and request.POST.get("cancel"):
        request.session.pop(suspicious.HELD_KEY, None)
        suspicious.cancel(held=held, request=request)
        messages.info(request, "Sign-in cancelled.")
        return redirect("security:login")
    approved = held.status == SuspiciousSignIn.Status.APPROVED and held.user.is_active
    if approved and suspicious.complete_held(held=held):
        request.session.pop(suspicious.HELD_KEY, None)
        devices.trust(request=request, user=held.user, token=token, via="approval")
        outcome = signin.resume(
            request,
            held.user,
            method=data.get("method") or "password",
            next_url=data.get("next"),
            otp_device=data.get("otp_device"),
        )
        return respond(request, outcome)
    if held.status == SuspiciousSignIn.Status.DENIED:
        request.session.pop(suspicious.HELD_KEY, None)
        messages.error(request, "This sign-in was denied.")
        return redirect("security:login")
    if held.status != SuspiciousSignIn.Status.PENDING or held.expired:
        return _restart_held(request, "The approval request expired. Please sign in again.")
    return render(
        request,
        "security/signin/signin_held.html",
        {"held": held, "email": _mask_email(held.user.email)},
    )
