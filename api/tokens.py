"""Access and refresh tokens (djangorestframework-simplejwt), each pair tied to a tracked
session.

A sign-in through the API ends in ``security.signin.pipeline.complete()`` like a page
sign-in, which records a ``TrackedSession``: it is listed in the Sessions tab. The tokens
carry its id (``sid``), and every request checks that session (ended? timed out? account
active?), so revoking it, a password change, disabling the account or signing out ends
the tokens at once, whatever their expiry says.

Refresh tokens rotate at every use: the family (``TokenFamily``, one per session) keeps
the id of the only refresh token that may be used next. A refresh token used again after
its rotation has been copied (or the client replays it): the whole family and its
session end, and the event is audited (theft detection, as OAuth 2.0 Security BCP §4.14).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from security.sessions import services as tracked
from security.sessions.models import TrackedSession

from .exceptions import ApiRefusal
from .models import TokenFamily

SESSION_CLAIM = "sid"
INVALID = "The token is invalid or expired. Sign in again."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str
    access_expires_in: int  # seconds
    refresh_expires_in: int

    def as_json(self) -> dict:
        return {
            "accessToken": self.access,
            "refreshToken": self.refresh,
            "tokenType": "Bearer",
            "expiresIn": self.access_expires_in,
            "refreshExpiresIn": self.refresh_expires_in,
        }


def _pair_for(family: TokenFamily) -> tuple[TokenPair, str]:
    refresh = RefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = family.user_id
    refresh[SESSION_CLAIM] = family.session_id
    access = refresh.access_token
    pair = TokenPair(
        access=str(access),
        refresh=str(refresh),
        access_expires_in=int(jwt_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        refresh_expires_in=int(jwt_settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
    )
    return pair, str(refresh[jwt_settings.JTI_CLAIM])


def issue(*, session: TrackedSession) -> TokenPair:
    """The first pair of a new API sign-in (its tracked session just started)."""
    with transaction.atomic():
        family = TokenFamily.objects.create(
            session=session, user_id=session.user_id, current_jti="-"
        )
        pair, jti = _pair_for(family)
        TokenFamily.objects.filter(pk=family.pk).update(current_jti=jti)
    return pair


def live_session(session_id, user_id) -> TrackedSession | None:
    """The tracked session a token names, if it still may be used (one query): open, the
    account active, within the idle and absolute limits (a session past one is ended)."""
    record = (
        TrackedSession.objects.select_related("user")
        .filter(pk=session_id, user_id=user_id, ended_at__isnull=True, user__is_active=True)
        .first()
    )
    if record is None:
        return None
    reason = tracked.timed_out(record, record.user)
    if reason is not None:
        tracked.end_session(record, reason=reason)
        return None
    return record


def read_access(raw: str) -> TrackedSession | None:
    try:
        token = AccessToken(raw)
    except TokenError:
        return None
    return live_session(token.get(SESSION_CLAIM), token.get(jwt_settings.USER_ID_CLAIM))


def _end_family(family: TokenFamily, *, reason: str) -> None:
    TokenFamily.objects.filter(pk=family.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    tracked.end_session(family.session, reason=reason)


def refresh(*, raw: str, request: HttpRequest) -> TokenPair:
    """Rotate: the presented refresh token must be the family's current one. A rotated
    one ends the family (theft detection). Raises ``ApiRefusal`` (401)."""
    try:
        token = RefreshToken(raw)
    except TokenError:
        raise ApiRefusal("invalid_token", INVALID, status=401) from None
    jti = str(token.get(jwt_settings.JTI_CLAIM, ""))
    reused = False
    with transaction.atomic():
        family = (
            TokenFamily.objects.select_for_update()
            .select_related("session", "user")
            .filter(
                session_id=token.get(SESSION_CLAIM),
                user_id=token.get(jwt_settings.USER_ID_CLAIM),
            )
            .first()
        )
        if family is None or family.revoked_at is not None:
            raise ApiRefusal("invalid_token", INVALID, status=401)
        if jti != family.current_jti:
            _end_family(family, reason=TrackedSession.EndReason.REVOKED)
            audit(
                Action.API_TOKEN_FAMILY_REVOKED,
                request=request,
                outcome=AuditEvent.Outcome.FAILURE,
                actor=None,
                user=family.user,
                metadata={"family": family.pk, "session": family.session_id, "reason": "reuse"},
            )
            reused = True
    if reused:
        # Raised outside the transaction: the family's end must commit, not roll back.
        raise ApiRefusal(
            "token_reused",
            "This refresh token was already used. Every token of this sign-in has been "
            "revoked; sign in again.",
            status=401,
        )
    if live_session(family.session_id, family.user_id) is None:
        raise ApiRefusal("invalid_token", INVALID, status=401)
    with transaction.atomic():
        pair, new_jti = _pair_for(family)
        rotated = TokenFamily.objects.filter(
            pk=family.pk, current_jti=jti, revoked_at__isnull=True
        ).update(current_jti=new_jti, rotations=family.rotations + 1)
        if not rotated:
            # Two uses of one refresh token raced: the loser is the replay.
            raise ApiRefusal("token_reused", "This refresh token was already used.", status=401)
        audit(
            Action.API_TOKEN_REFRESHED,
            request=request,
            actor=family.user,
            user=family.user,
            metadata={"family": family.pk, "session": family.session_id},
        )
    return pair


def sign_out(*, session: TrackedSession, request: HttpRequest) -> None:
    """End the tokens of this sign-in (its tracked session and family)."""
    with transaction.atomic():
        family = TokenFamily.objects.filter(session=session).first()
        if family is not None:
            TokenFamily.objects.filter(pk=family.pk).update(revoked_at=timezone.now())
        tracked.end_session(session, reason=TrackedSession.EndReason.SIGNOUT)
        audit(
            Action.API_SIGNOUT,
            request=request,
            actor=session.user,
            user=session.user,
            metadata={"session": session.pk},
        )
