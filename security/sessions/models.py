"""Tracked sessions, trusted devices, new-device codes and held (suspicious) sign-ins.

Nothing here stores a usable secret: session keys, device tokens and emailed codes are
kept as hashes only.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

__all__ = ["NewDeviceChallenge", "SuspiciousSignIn", "TrackedSession", "TrustedDevice"]


class _Place(models.Model):
    """Where and from what a request came (filled once, from the IP and User-Agent)."""

    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True, help_text="The full User-Agent header.")
    browser = models.CharField(max_length=100, blank=True)
    os = models.CharField("operating system", max_length=100, blank=True)
    device_type = models.CharField(max_length=10, blank=True)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def device_label(self) -> str:
        if self.browser and self.os:
            return f"{self.browser} on {self.os}"
        return self.browser or self.os or "Unknown browser"

    @property
    def location_label(self) -> str:
        return ", ".join(p for p in (self.city, self.country) if p) or "Unknown"


class TrackedSession(_Place):
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


class TrustedDevice(_Place):
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


class SuspiciousSignIn(_Place):
    """A sign-in held for the owner's approval (new country, impossible travel, failures)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for approval"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        COMPLETED = "completed", "Approved and signed in"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suspicious_signins"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reasons = models.JSONField(default=list, blank=True)
    device_token_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_via = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "status"], name="suspicioussignin_user_status")]

    def __str__(self) -> str:
        return f"held sign-in for {self.user} ({self.status})"

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def reason_labels(self) -> list[str]:
        labels = {
            "new_country": "a country this account has not signed in from before",
            "impossible_travel": "a place too far from your previous sign-in to have travelled in the time between",
            "failure_burst": "many failed sign-in attempts on your account in the last hour",
        }
        return [labels.get(r, r) for r in self.reasons]
