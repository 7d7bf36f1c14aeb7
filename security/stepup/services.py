"""The step-up: a signed-in user confirms who they are again (password or a current 2FA
code) before a sensitive action. The time of the last step-up is kept in the
server-side session only: nothing the browser sends can set it. High Security Mode
(ROADMAP) builds on this."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.http import HttpRequest

from audit.actions import Action
from audit.services import audit
from security.exceptions import PasskeyRefused
from security.lockout import policy as lockout
from security.passkeys import services as passkeys
from security.stepup import state
from security.twofactor.totp import has_totp, verify_totp

STEPUP_SECONDS = state.STEPUP_SECONDS


def stepup_is_recent(request: HttpRequest) -> bool:
    """Whether the user confirmed who they are in this session in the last 15 minutes."""
    return state.is_recent(request)


def stepup(*, request: HttpRequest, password: str = "", code: str = ""):
    """Check the password (or a current 2FA code) again. On success the step-up time is
    kept in the session and the key rotates; a wrong answer is audited and counted in
    the sign-in lockout. Returns the lockout status (``.locked``) or True on success."""
    user = request.user
    ok = False
    factor = "password"
    if password:
        ok = user.has_usable_password() and check_password(password, user.password)
    elif code and has_totp(user):
        factor = "totp"
        ok = verify_totp(user=user, code="".join(code.split())).ok
    if not ok:
        audit(
            Action.STEPUP,
            request=request,
            outcome="failure",
            user=user,
            metadata={"factor": factor},
        )
        return lockout.record_failure(request, login=user.get_username())
    request.session.cycle_key()
    state.mark(request)
    audit(Action.STEPUP, request=request, user=user, metadata={"factor": factor})
    return True


def stepup_with_passkey(*, request: HttpRequest, data: dict):
    """The step-up with one of the user's passkeys (user verification required), as
    strong as a 2FA code. Returns True, or the lockout status after a refusal (audited and
    counted like a wrong password); ``.message`` on the refusal says what went wrong."""
    user = request.user
    try:
        passkeys.authenticate_complete(request=request, purpose="stepup", user=user, data=data)
    except PasskeyRefused as refusal:
        if refusal.reason == "counter":
            passkeys.record_refusal(request=request, refusal=refusal, ceremony="stepup")
        audit(
            Action.STEPUP,
            request=request,
            outcome="failure",
            user=user,
            metadata={"factor": "passkey", "reason": refusal.reason},
        )
        return lockout.record_failure(request, login=user.get_username())
    request.session.cycle_key()
    state.mark(request)
    audit(Action.STEPUP, request=request, user=user, metadata={"factor": "passkey"})
    return True
