"""The two ways to authenticate to the API, both in ``Authorization: Bearer``:

- an API key (``pnl_...``): acts in the key's team, within its scopes and within what
  its owner may do there right now;
- an access token from ``/api/v1/auth/login``: acts as the signed-in user, for as long
  as its tracked session lives.

Every check runs on every request (owner active, session open, current team
permissions): nothing is cached in the credential. Failures are counted per client
address (``API_AUTH_FAILURE_RATE_LIMIT``); a key has its own request rate
(``API_KEY_RATE_LIMIT``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django_ratelimit.core import is_ratelimited
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel import ratelimits
from security.sessions import services as tracked

from . import keys, tokens
from .exceptions import ApiRefusal

REFUSED = "The API key or token is unknown, revoked or expired."


@dataclass(frozen=True)
class Credential:
    """What authenticated the request: ``kind`` "key" or "token", and its record."""

    kind: str
    key: object = None  # ApiKey
    session: object = None  # TrackedSession

    def audit_metadata(self) -> dict:
        if self.kind == "key":
            return {"via": "api_key", "api_key_id": self.key.pk}
        return {"via": "access", "session": self.session.pk}


def bearer(request) -> str | None:
    """The Bearer value of the Authorization header, or None. A malformed header is 401."""
    header = get_authorization_header(request).split()
    if not header or header[0].lower() != b"bearer":
        return None
    if len(header) != 2:
        raise exceptions.AuthenticationFailed("Send the header as: Authorization: Bearer <key>.")
    try:
        return header[1].decode("ascii")
    except UnicodeDecodeError:
        raise exceptions.AuthenticationFailed(REFUSED) from None


def _django(request):
    return getattr(request, "_request", request)


def _usable(user) -> None:
    """An administrator required a new password: until the owner changes it on the web,
    the account does nothing else, through the API neither (the pages' middleware is
    accounts.middleware.ForcedPasswordChangeMiddleware)."""
    if user.must_change_password:
        raise ApiRefusal(
            "password_change_required",
            "An administrator asked for a new password: choose one on the web first.",
            status=403,
        )


def _refuse(request, kind: str):
    """Count the failure on the client's address, audit it, and answer 401; once the
    address has used up its refusals (``API_AUTH_FAILURE_RATE_LIMIT``), 429. Counted on
    failure only: a client with a valid key costs no counter look-up, and a guessing
    client behind the same address as a legitimate one does not lock that one out."""
    limited = is_ratelimited(
        _django(request),
        group="api-auth-failures",
        key=ratelimits.ip_key,
        rate=ratelimits.api_auth_failure_rate,
        increment=True,
    )
    audit(
        Action.API_AUTH_FAILED,
        # The Django request: DRF's request.user would authenticate again (recursion).
        request=_django(request),
        outcome=AuditEvent.Outcome.FAILURE,
        actor=None,
        user=None,
        metadata={"kind": kind, "limited": limited},
    )
    if limited:
        raise exceptions.Throttled(detail="Too many refused keys or tokens from this address.")
    raise exceptions.AuthenticationFailed(REFUSED)


class _BearerAuthentication(BaseAuthentication):
    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class ApiKeyAuthentication(_BearerAuthentication):
    def authenticate(self, request):
        raw = bearer(request)
        if raw is None or not raw.startswith(keys.PREFIX):
            return None
        key = keys.find(raw)
        if key is None:
            _refuse(request, "api_key")
        if is_ratelimited(
            _django(request),
            group="api-key",
            key=lambda group, req: f"api-key:{key.pk}",
            rate=ratelimits.api_key_rate,
            increment=True,
        ):
            raise exceptions.Throttled(detail="This API key made too many requests.")
        _usable(key.user)
        keys.touch(key)
        credential = Credential(kind="key", key=key)
        _django(request).api_credential = credential
        _django(request).audit_via = credential.audit_metadata()
        return key.user, credential


class SessionTokenAuthentication(_BearerAuthentication):
    def authenticate(self, request):
        raw = bearer(request)
        if raw is None or raw.startswith(keys.PREFIX):
            return None
        session = tokens.read_access(raw)
        if session is None:
            _refuse(request, "access")
        _usable(session.user)
        tracked.touch(session)
        credential = Credential(kind="token", session=session)
        _django(request).api_credential = credential
        _django(request).audit_via = credential.audit_metadata()
        return session.user, credential
