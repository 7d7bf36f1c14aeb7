"""Lock state and escalation history per (client IP, normalized username) pair."""

from __future__ import annotations

from django.db import models

__all__ = ["Lockout"]


class Lockout(models.Model):
    """Lockout state and escalation history of one (client IP, normalized username) pair.

    django-axes counts the failures (``AccessAttempt``); when a pair reaches the limit
    the panel's axes handler locks it here for 60 s, then 5 min, then 1 h for repeat
    lockouts. Every sign-in attempt reserves a slot of its pair's row (``attempts``) before
    the password is hashed, by one conditional UPDATE, so that parallel requests can never
    check more than AXES_FAILURE_LIMIT passwords of one pair in a counting window. A row
    with ``ip=None`` is the per-account hard limit (100 consecutive
    failures from any address), which only an operator unlock or a password reset lifts.
    """

    ip = models.GenericIPAddressField(null=True, blank=True)
    username = models.CharField(max_length=255)
    level = models.PositiveSmallIntegerField(
        default=0, help_text="How many lockouts in a row this pair has had (1 = first)."
    )
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)
    last_locked_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text="Pair rows: sign-in attempts of the counting window, reserved before the "
        "password hash (in flight) or counted as failed; at most AXES_FAILURE_LIMIT.",
    )
    failures = models.PositiveSmallIntegerField(
        default=0, help_text="Pair rows: failed attempts of the counting window."
    )
    attempted_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Pair rows: the latest attempt; the window ends AXES_COOLOFF_TIME after it.",
    )
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Account rows only: failures since the last success."
    )
    hard_locked = models.BooleanField(default=False)
    password_fingerprint = models.CharField(
        max_length=64,
        blank=True,
        editable=False,
        help_text="Account rows: SHA-256 of the stored password hash when the hard lock "
        "began; a new password (a completed reset) lifts the lock.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ip", "username"], name="security_lockout_pair_unique"),
            models.UniqueConstraint(
                fields=["username"],
                condition=models.Q(ip__isnull=True),
                name="security_lockout_account_unique",
            ),
        ]
        indexes = [models.Index(fields=["username", "ip"])]

    def __str__(self) -> str:
        where = self.ip or "any address"
        return f"{self.username} from {where}"
