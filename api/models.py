"""API keys and the refresh-token families of signed-in API clients.

Only a keyed hash of a key is stored (HMAC-SHA256, ``api.keys.key_hash``): the key is 256
random bits, so a fast hash is enough, and the HMAC key keeps a copied table useless.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from security.sessions.models import TrackedSession


class ApiKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=80)
    # The recognisable start of the key ("pnl_" and 8 characters), shown in the list.
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute (api.keys.LAST_USED_WRITE_INTERVAL).
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apikey_user_live")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, now=None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.is_expired() else "active"


class TokenFamily(models.Model):
    """The refresh tokens of one API sign-in: each refresh rotates ``current_jti``; a
    refresh token presented again after its rotation (``jti`` no longer current) is a
    stolen copy or a replay, and ends the whole family and its tracked session."""

    session = models.OneToOneField(
        TrackedSession, on_delete=models.CASCADE, related_name="token_family"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    current_jti = models.CharField(max_length=64)
    rotations = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"token family {self.pk} of {self.user_id}"
