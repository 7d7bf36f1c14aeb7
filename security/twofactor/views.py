"""Two-factor pages: the sign-in step, enrollment, backup codes, disabling."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods
from django_ratelimit.decorators import ratelimit

from accounts.decorators import not_while_impersonating
from accounts.tabs import settings_page
from panel import ratelimits
from security.exceptions import AlreadyEnabled, CodeRefused
from security.lockout.decorators import lockout_guarded, refused
from security.passkeys.services import has_passkey
from security.twofactor import crypto, totp
from security.twofactor.backup_codes import COUNT, LOW_WATERMARK, remaining
from security.twofactor.forms import CurrentPasswordForm, DisableForm, TOTPCodeForm
from security.twofactor.totp import backup_codes_regenerate

# How long after re-entering the password the setup page may show the pending secret.
SETUP_SESSION_KEY = "_2fa_setup_until"
SETUP_WINDOW_SECONDS = 10 * 60


def _security_tab() -> HttpResponse:
    return redirect("accounts:settings_security")


def _posted(request: HttpRequest):
    """The form data of a POST, even an empty one (so it gets "This field is required"
    rather than a blank form), else None."""
    return request.POST if request.method == "POST" else None


def _form_status(request: HttpRequest) -> int:
    """A form page shown again after a POST means the submission was refused (an invalid
    form, a wrong code or password): 400, as every other form of the panel answers.
    A lockout answers 429 before this is reached."""
    return 400 if request.method == "POST" else 200


@dataclass
class _Checked:
    ok: bool
    value: Any = None
    locked: HttpResponse | None = None  # the locked page, when this attempt locked the pair


def _check_code(request: HttpRequest, form, *, page: str, service: Callable[..., Any]) -> _Checked:
    """Call ``service(user=, code=, request=)`` with the form's code. A refused code is
    counted on the sign-in lockout (``common.refused``) and shown on the form."""
    try:
        value = service(user=request.user, code=form.cleaned_data["code"], request=request)
    except CodeRefused as exc:
        locked = refused(request, page=page, factor=exc.method, reason=exc.reason)
        if locked is None:
            form.add_error("code", exc.message)
        return _Checked(False, locked=locked)
    return _Checked(True, value)


# --- The sign-in step ---------------------------------------------------------------------


# --- Enrollment ---------------------------------------------------------------------------


@not_while_impersonating
@require_http_methods(["GET", "POST"])
@ratelimit(
    key="user",
    rate=ratelimits.TWO_FACTOR_ENABLE_PER_USER,
    method="POST",
    group="2fa-enable",
    block=True,
)
@lockout_guarded
def twofactor_enable(request: HttpRequest) -> HttpResponse:
    """Step 1: re-enter the password, then a fresh pending secret is created. A wrong
    password counts on the sign-in lockout."""
    if totp.has_totp(request.user):
        messages.info(request, "Two-factor authentication is already on.")
        return _security_tab()
    form = CurrentPasswordForm(_posted(request), user=request.user)
    if request.method == "POST" and not form.is_valid() and form.password_refused:
        locked = refused(request, page="2fa_enable", factor="password", reason="invalid")
        if locked is not None:
            return locked
    if request.method == "POST" and form.is_valid():
        try:
            totp.totp_start(user=request.user, request=request)
        except AlreadyEnabled:
            return _security_tab()
        except ImproperlyConfigured:
            # No ENCRYPTION_KEYS (the system check says so too): never a 500.
            messages.error(request, "Two-factor authentication is not available: contact support.")
            return _security_tab()
        # Only a deadline is kept in the session; the secret stays encrypted in the database.
        request.session[SETUP_SESSION_KEY] = time.time() + SETUP_WINDOW_SECONDS
        return redirect("security:twofactor_setup")
    return settings_page(
        request,
        "security",
        "security/twofactor/twofactor_enable.html",
        {"form": form},
        status=_form_status(request),
    )


@not_while_impersonating
@require_http_methods(["GET", "POST"])
@ratelimit(
    key="user",
    rate=ratelimits.TWO_FACTOR_SETUP_PER_USER,
    method="POST",
    group="2fa-setup",
    block=True,
)
@lockout_guarded
def twofactor_setup(request: HttpRequest) -> HttpResponse:
    """Step 2: scan the QR code (or type the key), confirm with a code. On success the
    backup codes are shown, once, in this response."""
    if totp.has_totp(request.user):
        return _security_tab()
    device = totp.pending_device(request.user)
    deadline = request.session.get(SETUP_SESSION_KEY) or 0
    if device is None or time.time() > deadline:
        messages.info(request, "Confirm your password to set up two-factor authentication.")
        return redirect("security:twofactor_enable")

    form = TOTPCodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        checked = _check_code(request, form, page="2fa_setup", service=totp.totp_confirm)
        if checked.locked is not None:
            return checked.locked
        if checked.ok:
            request.session.pop(SETUP_SESSION_KEY, None)
            messages.success(request, "Two-factor authentication is on.")
            return _backup_codes_page(request, checked.value, first_time=True)

    try:
        info = totp.setup_info(device=device, user=request.user)
    except crypto.SecretUnreadable:
        totp.log_unreadable(device)
        messages.error(request, totp.UNREADABLE_MESSAGE)
        return _security_tab()
    return settings_page(
        request,
        "security",
        "security/twofactor/twofactor_setup.html",
        {"form": form, "info": info},
        status=_form_status(request),
    )


def _backup_codes_page(request: HttpRequest, codes: list[str], *, first_time: bool) -> HttpResponse:
    text = (
        f"{settings.SITE_NAME} backup codes for {request.user.email}\n"
        "Each code works once. Keep them somewhere safe.\n\n" + "\n".join(codes) + "\n"
    )
    response = settings_page(
        request,
        "security",
        "security/twofactor/backup_codes.html",
        {"codes": codes, "codes_text": text, "first_time": first_time},
    )
    # Shown once: never from a cache, never from the back button.
    response["Cache-Control"] = "no-store"
    return response


# --- Managing 2FA -------------------------------------------------------------------------


@not_while_impersonating
@require_http_methods(["GET", "POST"])
@ratelimit(
    key="user",
    rate=ratelimits.TWO_FACTOR_MANAGE_PER_USER,
    method="POST",
    group="2fa-manage",
    block=True,
)
@lockout_guarded
def twofactor_regenerate(request: HttpRequest) -> HttpResponse:
    """New backup codes, after a fresh TOTP code (backup codes are refused here)."""
    if not totp.has_totp(request.user):
        return _security_tab()
    form = TOTPCodeForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        checked = _check_code(
            request,
            form,
            page="2fa_backup_codes",
            service=lambda *, user, code, request: backup_codes_regenerate(
                user=user, totp_code=code, request=request
            ),
        )
        if checked.locked is not None:
            return checked.locked
        if checked.ok:
            messages.success(request, "New backup codes issued. The old codes no longer work.")
            return _backup_codes_page(request, checked.value, first_time=False)
    return settings_page(
        request,
        "security",
        "security/twofactor/twofactor_regenerate.html",
        {"form": form, "remaining": remaining(request.user), "count": COUNT},
        status=_form_status(request),
    )


@not_while_impersonating
@require_http_methods(["GET", "POST"])
@ratelimit(
    key="user",
    rate=ratelimits.TWO_FACTOR_MANAGE_PER_USER,
    method="POST",
    group="2fa-manage",
    block=True,
)
@lockout_guarded
def twofactor_disable(request: HttpRequest) -> HttpResponse:
    """Turn 2FA off with a current TOTP code or a backup code."""
    if not totp.has_totp(request.user):
        return _security_tab()
    form = DisableForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        checked = _check_code(request, form, page="2fa_disable", service=totp.totp_disable)
        if checked.locked is not None:
            return checked.locked
        if checked.ok:
            messages.success(
                request,
                "The authenticator app is removed. Your passkeys still protect your sign-in."
                if has_passkey(request.user)
                else "Two-factor authentication is off.",
            )
            return _security_tab()
    return settings_page(
        request,
        "security",
        "security/twofactor/twofactor_disable.html",
        {"form": form, "low_watermark": LOW_WATERMARK},
        status=_form_status(request),
    )
