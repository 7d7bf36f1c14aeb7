"""Tracked sessions. The session key is kept as a hash only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from security.client.models import Place

__all__ = ["TrackedSession"]


class TrackedSession(Place):
    """One signed-in browser session: what the Sessions tab lists and revokes.

    ``session_key_hash`` is the SHA-256 of the Django session key (kept current when the
    key rotates); the session itself points at this row, and the session middleware
    refuses a session whose row has ended.
    """

    class EndReason(models.TextChoices):
        SIGNOUT = "signout", "Signed out"
        REVOKED = "revoked", "Revoked"
        IDLE = "idle", "Idle timeout"
        EXPIRED = "expired", "Maximum lifetime reached"
        PASSWORD_CHANGE = "password_change", "Password changed"
        REPLACED = "replaced", "Replaced by a newer sign-in"
        DISABLED = "disabled", "Account disabled"
        DENIED = "denied", "Reported as not the user"
        TWO_FACTOR_ENABLED = "2fa_enabled", "Two-factor authentication turned on"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracked_sessions"
    )
    session_key_hash = models.CharField(max_length=64, unique=True)
    # How the sign-in pipeline completed ("password", "totp", ...); empty for sessions
    # started outside it (an administrator's tooling, tests' force_login).
    method = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_active_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=20, choices=EndReason.choices, blank=True)
    # Set when the owner used "This wasn't me" in the new sign-in email (single use).
    reported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_active_at", "-id"]
        indexes = [models.Index(fields=["user", "ended_at"], name="trackedsession_user_live")]

    def __str__(self) -> str:
        return f"{self.user} · {self.device_label} · {self.location_label}"

    @property
    def is_active(self) -> bool:
        return self.ended_at is None
