"""API keys: create, revoke, list, and the check made on every request that carries one.

A key is ``pnl_`` + 43 characters of base64url (``secrets.token_bytes(32)``: 256 bits).
Only its HMAC-SHA256 is stored, keyed from ``API_KEY_HASH_SECRET`` or, when that is empty,
from ``SECRET_KEY`` with the purpose "api.keys": the key is random, so a fast keyed hash is
enough (no salt or slow hash needed), and a leaked table cannot be checked offline without
the secret. The last use is written at most once a minute, never on every request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.actions import Action
from audit.services import audit
from teams import access
from teams.models import Team

from . import scopes as scope_catalog
from .exceptions import ApiRefusal
from .models import ApiKey

PREFIX = "pnl_"
KEY_BYTES = 32
BODY_LENGTH = 43  # base64url of 32 bytes, unpadded
SHOWN_PREFIX_LENGTH = len(PREFIX) + 8
LAST_USED_WRITE_INTERVAL = 60  # seconds
EXPIRY_DAYS = (30, 60, 90)  # or never (None)
NAME_MAX = 80


def _hash_secret() -> bytes:
    dedicated = getattr(settings, "API_KEY_HASH_SECRET", "")
    if dedicated:
        return dedicated.encode()
    # A key of its own, derived from SECRET_KEY with a purpose string: the HMAC key of
    # API keys is never the key that signs sessions or tokens.
    return hashlib.sha256(b"panel.api.keys:" + settings.SECRET_KEY.encode()).digest()


def key_hash(raw: str) -> str:
    return hmac.new(_hash_secret(), raw.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def looks_like_key(raw: str) -> bool:
    if not raw.startswith(PREFIX) or len(raw) != len(PREFIX) + BODY_LENGTH:
        return False
    body = raw[len(PREFIX) :]
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in body)


def generate() -> str:
    body = base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).rstrip(b"=").decode()
    return PREFIX + body


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    raw: str  # shown once, never stored


def clean_scopes(values) -> list[str]:
    chosen = sorted({str(v) for v in values or ()})
    unknown = [v for v in chosen if v not in scope_catalog.SCOPES]
    if unknown or not chosen:
        raise ApiRefusal("invalid_scopes", "Choose at least one of the listed scopes.", status=400)
    return chosen


def create_key(
    *,
    user,
    team: Team,
    name: str,
    scopes,
    expiry_days: int | None,
    request: HttpRequest | None = None,
) -> NewKey:
    """A new key for ``user`` in ``team`` (they must be a member). Audited with the key's
    id and prefix, never the key."""
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX or "\x00" in name:
        raise ApiRefusal("invalid_name", f"Give the key a name of 1 to {NAME_MAX} characters.")
    chosen = clean_scopes(scopes)
    if expiry_days is not None and expiry_days not in EXPIRY_DAYS:
        raise ApiRefusal("invalid_expiry", "Choose an expiry of 30, 60 or 90 days, or never.")
    access.forget(user)
    if access.access_for(user, team.pk) is None:
        raise ApiRefusal("not_a_member", "You are not a member of that team.", status=404)
    raw = generate()
    now = timezone.now()
    with transaction.atomic():
        key = ApiKey.objects.create(
            user=user,
            team=team,
            name=name,
            prefix=raw[:SHOWN_PREFIX_LENGTH],
            key_hash=key_hash(raw),
            scopes=chosen,
            created_at=now,
            expires_at=now + timedelta(days=expiry_days) if expiry_days else None,
        )
        audit(
            Action.API_KEY_CREATED,
            request=request,
            actor=user,
            team_id=team.pk,
            metadata={
                "api_key_id": key.pk,
                "prefix": key.prefix,
                "name": name,
                "scopes": chosen,
                "expires_days": expiry_days,
            },
        )
    return NewKey(key=key, raw=raw)


def revoke_key(*, user, key: ApiKey, request: HttpRequest | None = None) -> bool:
    """Revoke one of ``user``'s keys; False if it was revoked already."""
    if key.user_id != user.pk:
        raise ApiRefusal("not_found", "There is no such key.", status=404)
    with transaction.atomic():
        updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        if updated:
            audit(
                Action.API_KEY_REVOKED,
                request=request,
                actor=user,
                team_id=key.team_id,
                metadata={"api_key_id": key.pk, "prefix": key.prefix, "name": key.name},
            )
    return bool(updated)


def keys_for(user):
    return ApiKey.objects.filter(user=user).select_related("team").order_by("-created_at", "-id")


def find(raw: str) -> ApiKey | None:
    """The live key ``raw`` names (not revoked, not expired, owner active), or None. One
    query; the comparison is on the keyed hash (a unique index), so no timing leak."""
    if not looks_like_key(raw):
        return None
    key = (
        ApiKey.objects.select_related("user", "team")
        .filter(key_hash=key_hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None or key.is_expired():
        return None
    return key


def touch(key: ApiKey, *, now=None) -> bool:
    """Note the use: written only when the stored value is a minute old or more."""
    now = now or timezone.now()
    if key.last_used_at and (now - key.last_used_at).total_seconds() < LAST_USED_WRITE_INTERVAL:
        return False
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
    return True


def revoke_by_operator(*, queryset, request: HttpRequest | None = None) -> int:
    """Operators (the admin): revoke the live keys in ``queryset``, one event each."""
    total = 0
    for key in queryset.filter(revoked_at__isnull=True).select_related("user"):
        with transaction.atomic():
            if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
                revoked_at=timezone.now()
            ):
                audit(
                    Action.API_KEY_REVOKED,
                    request=request,
                    user=key.user,
                    team_id=key.team_id,
                    metadata={"api_key_id": key.pk, "prefix": key.prefix, "source": "admin"},
                )
                total += 1
    return total
