"""Sign-ins held for the owner's approval (new country, impossible travel, failure burst)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from security.client.models import Place

__all__ = ["SuspiciousSignIn"]


class SuspiciousSignIn(Place):
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
