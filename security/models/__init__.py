"""Security models, one module per feature: audit trail, second factors, sessions and devices."""

from .audit import AuditEvent
from .otp import *  # noqa: F403
from .sessions import *  # noqa: F403

__all__ = ["AuditEvent"]
