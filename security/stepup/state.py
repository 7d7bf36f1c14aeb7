"""When this session last confirmed who the user is (the step-up), and how strongly. Kept
in the server-side session only: nothing the browser sends can set it.

There is one step-up with two strengths: any factor (the password, a 2FA code, a passkey)
satisfies ``@stepup_required`` pages (session revocation, passkeys); High Security Mode
asks for a second factor (a TOTP code, a backup code or a passkey): "high security
verified". Both last 15 minutes. A sign-in counts as a step-up of the strength of the
factors it used (security.stepup.receivers)."""

from __future__ import annotations

import time

from django.http import HttpRequest

from security.exceptions import StepUpRequired

STEPUP_KEY = "_stepup_at"
# When this session last proved a second factor (High Security Mode's "verified").
VERIFIED_KEY = "_hs_verified_at"
STEPUP_SECONDS = 15 * 60


def _fresh(at) -> bool:
    return isinstance(at, (int, float)) and 0 <= time.time() - at <= STEPUP_SECONDS


def is_recent(request: HttpRequest) -> bool:
    """Whether the user stepped up (with any factor) in this session within the last
    STEPUP_SECONDS."""
    return _fresh(request.session.get(STEPUP_KEY)) or is_verified(request)


def is_verified(request: HttpRequest) -> bool:
    """Whether the session is "high security verified": a second factor proved within
    the last STEPUP_SECONDS."""
    return _fresh(request.session.get(VERIFIED_KEY))


def mark(request: HttpRequest, *, second_factor: bool = False) -> None:
    now = time.time()
    request.session[STEPUP_KEY] = now
    if second_factor:
        request.session[VERIFIED_KEY] = now


def require_recent(request: HttpRequest) -> None:
    """Raise ``StepUpRequired`` (the policy middleware answers with "Confirm it's you")
    unless the user stepped up recently. For views that must look their object up first
    (another user's id is a 404, not a step-up page) and for services checking again."""
    if not is_recent(request):
        raise StepUpRequired
