"""Second factors: a TOTP device with an encrypted secret, backup codes, lockout history.

Both factors are django-otp devices (``Device`` + ``ThrottlingMixin``), so
``django_otp.verify_token`` / ``match_token``, ``OTPMiddleware`` and
``request.user.is_verified()`` work with them. Callers verify inside
``transaction.atomic`` on a row locked with ``select_for_update()`` (see
``security.services.totp``), so two requests racing with one code cannot both win.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from .. import crypto

__all__ = ["BackupCode", "BackupCodeSet", "EncryptedTOTPDevice", "Lockout"]

logger = logging.getLogger("panel.security")


def _throttle_cap_seconds() -> int:
    return int(getattr(settings, "OTP_THROTTLE_MAX_SECONDS", 15 * 60))


class CappedThrottlingMixin(ThrottlingMixin):
    """django-otp's exponential back-off (1 s, 2 s, 4 s, ...) capped at
    ``OTP_THROTTLE_MAX_SECONDS``: without a cap, someone who knows the password could
    lock the owner out of their own second factor for days."""

    class Meta:
        abstract = True

    def get_throttle_factor(self) -> int:
        return int(getattr(settings, "OTP_THROTTLE_FACTOR", 1))

    def verify_is_allowed(self):
        allowed, data = super().verify_is_allowed()
        if allowed or not data or self.throttling_failure_timestamp is None:
            return allowed, data
        cap = self.throttling_failure_timestamp + timedelta(seconds=_throttle_cap_seconds())
        if data.get("locked_until") and data["locked_until"] > cap:
            if timezone.now() >= cap:
                return True, None
            data["locked_until"] = cap
        return allowed, data

    def throttle_seconds_left(self) -> int:
        allowed, data = self.verify_is_allowed()
        if allowed or not data or not data.get("locked_until"):
            return 0
        return max(1, int((data["locked_until"] - timezone.now()).total_seconds() + 0.999))


class EncryptedTOTPDevice(TimestampMixin, CappedThrottlingMixin, Device):
    """An RFC 6238 authenticator (SHA1, 6 digits, 30 s) whose key is Fernet-encrypted.

    django-otp's stock ``TOTPDevice`` keeps the key in plain hex (max_length 80, too
    short for a Fernet token), hence this model. The arithmetic is django-otp's
    ``oath.TOTP``; this class adds only the encrypted key, the fixed parameters and
    replay protection by the last accepted time step (``last_t``).

    One device per user: ``confirmed=False`` is a pending enrollment (overwritten when
    enrollment starts again), ``confirmed=True`` means 2FA is on.
    """

    STEP = 30
    T0 = 0
    DIGITS = 6
    # Previous, current and next step (SECURITY.md: product decision, ~90 s).
    TOLERANCE = 1

    encrypted_key = models.TextField(
        editable=False, help_text="The 20-byte secret, Fernet-encrypted with ENCRYPTION_KEYS."
    )
    last_t = models.BigIntegerField(
        default=-1,
        help_text="The time step of the last accepted code; only later steps are accepted.",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "TOTP device"
        constraints = [
            models.UniqueConstraint(fields=["user"], name="security_totp_one_device_per_user")
        ]

    @property
    def bin_key(self) -> bytes:
        """The secret. Raises ``crypto.SecretUnreadable`` when no key decrypts it."""
        return crypto.decrypt(self.encrypted_key)

    def set_key(self, key: bytes) -> None:
        self.encrypted_key = crypto.encrypt(key)

    def totp(self, key: bytes) -> TOTP:
        return TOTP(key, step=self.STEP, t0=self.T0, digits=self.DIGITS, drift=0)

    def verify_token(self, token) -> bool:
        """Accept a code for the previous, current or next step, each step at most once.

        Must run on a row locked with select_for_update inside a transaction (the
        services do this). Raises ``crypto.SecretUnreadable`` before touching the
        throttle if the secret cannot be decrypted.
        """
        key = self.bin_key
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        token = str(token or "").strip()
        verified = False
        if len(token) == self.DIGITS and token.isascii() and token.isdigit():
            totp = self.totp(key)
            totp.time = time.time()
            # min_t = last_t + 1: a step already used (or older than one used) never
            # verifies again, whatever the window says (RFC 6238 section 5.2).
            verified = totp.verify(int(token), tolerance=self.TOLERANCE, min_t=self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified


class BackupCodeSet(TimestampMixin, CappedThrottlingMixin, Device):
    """The user's current set of single-use backup codes (a django-otp device).

    Every code in a set is hashed with the set's own random salt, so checking a typed
    code costs one slow hash, compared in constant time against the stored digests.
    The hash parameters are stored with the set, so raising the cost later does not
    break existing sets. Regenerating replaces the set (and so kills every old code).
    """

    salt = models.CharField(max_length=64, editable=False)
    hasher = models.CharField(
        max_length=64, editable=False, help_text="Hash algorithm and cost, e.g. scrypt$16384$8$1"
    )

    class Meta:
        verbose_name = "backup code set"
        constraints = [
            models.UniqueConstraint(fields=["user"], name="security_backup_codes_one_set_per_user")
        ]

    @staticmethod
    def default_hasher() -> str:
        n = int(getattr(settings, "BACKUP_CODE_SCRYPT_N", 2**14))
        return f"scrypt${n}$8$1"

    def digest(self, code: str) -> str:
        algorithm, n, r, p = self.hasher.split("$")
        if algorithm != "scrypt":  # pragma: no cover - only one algorithm exists yet
            raise ValueError(f"unknown backup code hasher {algorithm!r}")
        n, r, p = int(n), int(r), int(p)
        raw = hashlib.scrypt(
            code.encode("ascii"),
            salt=bytes.fromhex(self.salt),
            n=n,
            r=r,
            p=p,
            dklen=32,
            maxmem=256 * r * n + 1024 * 1024,
        )
        return raw.hex()

    def remaining(self) -> int:
        return self.codes.filter(used_at__isnull=True).count()

    def verify_token(self, token) -> bool:
        """Consume the matching unused code. Must run on a locked row (see the services)."""
        from ..services.backup_codes import normalize_code

        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        code = normalize_code(token)
        match = None
        if code is not None:
            typed = self.digest(code)
            # Compare against every unused digest without stopping early, so timing
            # does not reveal which slot matched.
            for candidate in self.codes.filter(used_at__isnull=True):
                if hmac.compare_digest(candidate.digest, typed) and match is None:
                    match = candidate
        if match is None:
            self.throttle_increment(commit=True)
            return False
        match.used_at = timezone.now()
        match.save(update_fields=["used_at"])
        self.throttle_reset(commit=False)
        self.set_last_used_timestamp(commit=False)
        self.save()
        return True


class BackupCode(models.Model):
    """One backup code: only its salted scrypt digest is stored."""

    code_set = models.ForeignKey(BackupCodeSet, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=128, editable=False)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "backup code"

    def __str__(self) -> str:
        return f"backup code #{self.pk} ({'used' if self.used_at else 'unused'})"


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
