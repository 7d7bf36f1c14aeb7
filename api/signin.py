"""The API front of the sign-in pipeline (``security.signin.pipeline``): the same
stages, lockout, rate limits, new-device and suspicious-sign-in rules as the pages, and
the pipeline's outcomes turned into JSON.

The pipeline keeps a half-finished sign-in in the server-side session. An API client has
no session cookie, so each step runs against a *detached* session: a session row that no
cookie names, whose key travels inside a signed, 5-minute token in the JSON body
(``twoFactorToken`` / ``signinToken``). The key changes at every step (the pipeline
rotates it), so a step's token works once. The browser's device cookie has its API twin,
``deviceToken`` (the same signed value), sent in the body of later sign-ins.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.http import HttpRequest

from accounts.backends import DISABLED_MESSAGE
from security.devices import services as devices
from security.sessions import services as tracked
from security.signin import pending
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

from . import tokens
from .exceptions import ApiRefusal

STEP_SALT = "api.signin-step"
# The client's device token, kept in the detached session between steps (a browser sends
# its device cookie at every step; an API client sends deviceToken once, at /login).
DEVICE_KEY = "_api_device_token"
LOGIN_FAILED = "The email/username or password is not right."


def step_token(session_key: str, stage: str) -> str:
    return signing.dumps({"k": session_key, "s": stage}, salt=STEP_SALT, compress=True)


def read_step_token(raw, stage: str) -> str | None:
    """The detached session key a step token carries, if it is genuine, for ``stage``,
    and at most 5 minutes old."""
    if not isinstance(raw, str) or not raw or len(raw) > 500:
        return None
    try:
        data = signing.loads(raw, salt=STEP_SALT, max_age=pending.LIFETIME_SECONDS)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("s") != stage or not isinstance(data.get("k"), str):
        return None
    return data["k"]


@contextmanager
def detached_session(request: HttpRequest, *, session_key: str | None = None, device_token=None):
    """Run pipeline code against a server-side session no cookie names. The request's
    own session (and cookie) is untouched; a device token the pipeline issues is not set
    as a cookie (the API answers it in the body)."""
    original = request.session
    store = SessionStore(session_key=session_key)
    request.session = store
    # Every event of an API sign-in (signin, 2fa_failed, ...) says it came through the API
    # (an authenticated request keeps the key or token it names).
    had_via = "audit_via" in request.__dict__
    request.__dict__.setdefault("audit_via", {"via": "api"})
    # A device token in the request wins (a forged one counts as none); else the one this
    # sign-in began with.
    if device_token is not None:
        token = devices.read_signed_token(device_token)
    else:
        token = store.get(DEVICE_KEY)
    if token:
        request._device_token_to_set = token
    try:
        yield store
    finally:
        request.session = original
        request.__dict__.pop("_device_token_to_set", None)
        request.__dict__.pop("tracked_session", None)
        if not had_via:
            request.__dict__.pop("audit_via", None)


def load_step(request: HttpRequest, raw, stage: str) -> str:
    key = read_step_token(raw, stage)
    if key is None or not SessionStore().exists(key):
        raise ApiRefusal(
            "signin_expired", "This sign-in step expired or was used. Sign in again.", status=401
        )
    return key


def answer(request: HttpRequest, store: SessionStore, outcome: Outcome, *, device_token: str):
    """(status, body) for an outcome, saving or ending the detached session."""
    if isinstance(outcome, SignedIn):
        record = tracked.current(request)
        store.delete()  # the tokens name the tracked session; nothing needs the row
        if record is None:  # pragma: no cover - complete() always records one
            raise ApiRefusal("signin_failed", "The sign-in could not be completed.", status=500)
        pair = tokens.issue(session=record)
        body = {**pair.as_json(), "deviceToken": device_token}
        if outcome.notices:
            body["notices"] = list(outcome.notices)
        return 200, body
    if isinstance(outcome, SecondFactorRequired | DeviceCodeRequired):
        store[DEVICE_KEY] = devices.ensure_token(request)
    if isinstance(outcome, SecondFactorRequired):
        store.save()
        return 200, {
            "needs2fa": True,
            "twoFactorToken": step_token(store.session_key, "2fa"),
            "expiresIn": pending.LIFETIME_SECONDS,
        }
    if isinstance(outcome, DeviceCodeRequired):
        store.save()
        return 200, {
            "needsDeviceCode": True,
            "signinToken": step_token(store.session_key, "device"),
            "deviceToken": device_token,
            "expiresIn": pending.LIFETIME_SECONDS,
            "message": "We emailed a 6-digit code to the account's address. Send it to "
            "/api/v1/auth/login/device with the signinToken, and keep the deviceToken for "
            "later sign-ins.",
        }
    store.delete()
    if isinstance(outcome, Held):
        return 202, {
            "held": True,
            "reasons": list(outcome.reasons),
            "message": "This sign-in looks unusual and waits for the owner's approval "
            "(we emailed them). Once it is approved, sign in again.",
        }
    if isinstance(outcome, LockedOut):
        seconds = getattr(outcome.lock, "seconds", None)
        raise ApiRefusal(
            "locked",
            "Too many failed attempts. Try again later."
            + (f" ({seconds} seconds)" if seconds else ""),
            status=429,
        )
    if isinstance(outcome, PasswordRefused):
        if outcome.disabled:
            # Only after the account's right password (accounts.backends), as on the page.
            raise ApiRefusal("account_disabled", DISABLED_MESSAGE, status=403)
        raise ApiRefusal("invalid_credentials", LOGIN_FAILED, status=401)
    if isinstance(outcome, StepRequired):
        raise ApiRefusal(
            "step_required",
            f"This sign-in needs a step the API does not offer ({outcome.stage}): "
            "finish it on the web.",
            status=403,
        )
    if isinstance(outcome, Restart):
        raise ApiRefusal("signin_expired", outcome.message, status=401)
    raise ApiRefusal("signin_failed", "The sign-in could not be completed.", status=500)


def device_token_of(request: HttpRequest) -> str:
    """The signed device token to answer: the one the pipeline used or issued."""
    token = devices.ensure_token(request)
    return devices.signed_token(token)
