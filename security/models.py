"""The security app's models, re-exported from the feature that owns each one, so that
Django finds every model of the app here and other apps import them from one place.
The tables are the security app's (``security_*``), whichever module defines them.
Code inside ``security`` imports a model from its feature's ``models`` module."""

from security.blocking.models import BlockedNetwork
from security.devices.models import NewDeviceChallenge, TrustedDevice
from security.lockout.models import Lockout
from security.metrics.models import AuditHourlyCount, MetricAlertState
from security.sessions.models import TrackedSession
from security.stepup.models import HighSecurityRule, PanelHighSecurity
from security.suspicious.models import SuspiciousSignIn
from security.twofactor.models import BackupCode, BackupCodeSet, EncryptedTOTPDevice

__all__ = [
    "AuditHourlyCount",
    "BackupCode",
    "BackupCodeSet",
    "BlockedNetwork",
    "EncryptedTOTPDevice",
    "HighSecurityRule",
    "Lockout",
    "MetricAlertState",
    "NewDeviceChallenge",
    "PanelHighSecurity",
    "SuspiciousSignIn",
    "TrackedSession",
    "TrustedDevice",
]
