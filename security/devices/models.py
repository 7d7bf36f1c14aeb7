"""Trusted browsers and the emailed new-device codes. Device tokens and codes are kept as
hashes only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from security.client.models import Place

__all__ = ["NewDeviceChallenge", "TrustedDevice"]


class TrustedDevice(Place):
    """A browser the user approved, recognised by its signed device cookie.

    The cookie holds a random token; only its SHA-256 is stored. One browser has one
    token, which may be trusted by several users (one row each).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_devices"
    )
    token_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField("first seen", default=timezone.now)
    last_seen_at = models.DateTimeField("last seen", default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "token_hash"], name="trusteddevice_user_token_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.name or self.device_label}"


class NewDeviceChallenge(models.Model):
    """The emailed 6-digit code for one pending sign-in from an unrecognised browser.

    Bound to that sign-in: the id lives in its server-side session and the code's hash
    covers the id. A resend replaces the code but keeps ``attempts``.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="device_challenges"
    )
    code_hash = models.CharField(max_length=64)
    device_token_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    code_expires_at = models.DateTimeField()
    last_sent_at = models.DateTimeField(default=timezone.now)
    sends = models.PositiveSmallIntegerField(default=1)
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"new-device code for {self.user} ({self.created_at:%Y-%m-%d %H:%M})"
