"""Enforce tracked sessions on every request.

For a signed-in session this loads its TrackedSession row (one indexed read) and signs
the browser out, with a message saying why, when the row has ended (revoked elsewhere,
password changed, replaced by a newer sign-in, account disabled) or when the idle or
absolute limit has passed. Last-active is written at most once a minute, so an ordinary
page view makes no database write. It also keeps the stored key hash current when a
view rotated the session key, and sets the device cookie a sign-in step issued.

Place it after AuthenticationMiddleware, OTPMiddleware and MessageMiddleware.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user_model, logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.functional import LazyObject

from accounts.backends import prefetched_user
from panel.prepared import PreparedLookup
from panel.session_store import read_along
from security.devices import services as devices
from security.metrics import session_errors
from security.sessions import services as tracked
from security.sessions.models import TrackedSession

logger = logging.getLogger(__name__)

Reason = TrackedSession.EndReason
_TRACKED_WITH_USER = PreparedLookup(
    TrackedSession,
    # No ORDER BY (the model's ordering cleared): the pk names one row.
    lambda pk: TrackedSession.objects.filter(pk=pk).select_related("user").order_by()[:1],
)
# The same row, found by its session key's hash, read in the session's own query
# (panel.session_store): one query for the session, its tracked row and the user. It is
# used only when its pk is the one the session names; else the pk lookup above runs.
_TRACKED_BY_KEY = PreparedLookup(
    TrackedSession,
    lambda key_hash: (
        TrackedSession.objects.filter(session_key_hash=key_hash)
        .select_related("user")
        .order_by()[:1]
    ),
    kinds=(str,),
)
ALONG = "security.tracked_session"
read_along(ALONG, _TRACKED_BY_KEY, lambda session_key: (tracked.hash_key(session_key),))


def _unwrapped(user):
    while isinstance(user, LazyObject):
        user = user._wrapped  # evaluated: its is_authenticated was read above
    return user


class SessionTrackingMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        self._enforce(request)
        key_before = request.session.session_key
        response = self.get_response(request)
        if request.session.session_key and request.session.session_key != key_before:
            tracked.key_rotated(request)
        token = getattr(request, "_device_token_to_set", None)
        if token:
            devices.set_cookie(response, token)
        return response

    def _enforce(self, request: HttpRequest) -> None:
        pk = tracked.current_id(request)
        if pk is None:
            if request.session.get(SESSION_KEY):
                # Signed in before tracking existed, or by a path that bypassed login():
                # start tracking now (one write, once).
                if request.user.is_authenticated:
                    tracked.start_session(request, request.user)
            elif request.session.session_key is None:
                self._explain_deleted_session(request)
            return
        # Read the row before touching request.user: Django's hash check flushes a
        # session whose password changed, and we want to say why.
        # The user's row comes in the same query; Django's session check (run when
        # request.user is first touched, just below) uses it instead of a second read.
        # Its SQL compiled once (panel.prepared): on every page, the compilation cost
        # four times the query's round trip. Usually it came with the session's row.
        record = getattr(request.session, "along", {}).get(ALONG)
        if record is None or record.pk != pk:
            record = _TRACKED_WITH_USER.first(pk)
        if record is None:
            self._sign_out(request, None, Reason.REVOKED)
            return
        if record.ended_at is not None:
            self._sign_out(request, record, record.end_reason)
            return
        token = prefetched_user.set(record.user)
        try:
            user = request.user
            user.is_authenticated  # noqa: B018 (evaluates the lazy user now)
        finally:
            prefetched_user.reset(token)
        if not user.is_authenticated or user.pk != record.user_id:
            # The hash check failed (password changed elsewhere) or the account was
            # disabled: end the row too.
            reason = Reason.PASSWORD_CHANGE
            if not get_user_model().objects.filter(pk=record.user_id, is_active=True).exists():
                reason = Reason.DISABLED
            tracked.end_session(record, reason=reason, request=request)
            self._sign_out(request, record, reason)
            return
        now = timezone.now()
        reason = tracked.timed_out(record, user, now=now)
        if reason is not None:
            tracked.end_session(record, reason=reason, request=request)
            self._sign_out(request, record, reason)
            return
        tracked.touch(record, now=now)
        request.tracked_session = record
        # The user is known now: the request holds it directly instead of through the
        # two lazy wrappers of AuthenticationMiddleware and OTPMiddleware, through which
        # every later attribute read (a few hundred a page) went.
        request.user = _unwrapped(user)

    def _explain_deleted_session(self, request: HttpRequest) -> None:
        """The browser sent a session cookie whose session row is gone (expired, or
        deleted by a password change): end its record if still open and say why, once
        (Django then clears the stale cookie)."""
        raw = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
        if raw and not session_errors.looks_issued(raw):
            # Not a cookie the panel issued: a session error (security.metrics).
            session_errors.record_error("garbled_cookie")
            return
        if not raw:
            return
        record = (
            TrackedSession.objects.filter(session_key_hash=tracked.hash_key(raw))
            .select_related("user")
            .first()
        )
        if record is None:
            return
        reason = record.end_reason
        if record.ended_at is None:
            reason = tracked.timed_out(record, record.user) or Reason.EXPIRED
            tracked.end_session(record, reason=reason, request=request)
        if reason != Reason.SIGNOUT:
            messages.warning(request, tracked.end_message(reason, record.user))

    def _sign_out(self, request: HttpRequest, record: TrackedSession | None, reason: str) -> None:
        user = record.user if record is not None else None
        # logout() flushes the session (deleting its row) and fires user_logged_out.
        if request.session.get(SESSION_KEY) or request.session.get(BACKEND_SESSION_KEY):
            logout(request)
        else:
            request.session.flush()
            request.user = AnonymousUser()
        if reason and reason != Reason.SIGNOUT:
            messages.warning(request, tracked.end_message(reason, user))
