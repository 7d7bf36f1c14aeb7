"""The security app's models, re-exported from the feature that owns each one, so that
``security.models.X`` keeps working and Django finds every model of the app here.
The tables are the security app's (``security_*``), whichever module defines them."""

from security.sessions.models import (
    NewDeviceChallenge,
    SuspiciousSignIn,
    TrackedSession,
    TrustedDevice,
)
from security.twofactor.models import BackupCode, BackupCodeSet, EncryptedTOTPDevice, Lockout

__all__ = [
    "BackupCode",
    "BackupCodeSet",
    "EncryptedTOTPDevice",
    "Lockout",
    "NewDeviceChallenge",
    "SuspiciousSignIn",
    "TrackedSession",
    "TrustedDevice",
]
