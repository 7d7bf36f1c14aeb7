"""Second-factor codes as values: the backup-code format, the result of one check and the
refusal a settings page shows. Pure: no database, no request (the models and services
build on it).

A backup code is 16 symbols of Crockford's Base32 alphabet (5 bits each: 80 bits from
``secrets``), shown as ``xxxx-xxxx-xxxx-xxxx``. Typing is forgiving: case, spaces and
hyphens are ignored, and o/i/l read as 0/1.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any, ClassVar

from panel.humanize import humanize_seconds

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
CODE_LENGTH = 16
GROUP = 4
COUNT = 10
# Using a code leaves this many or fewer: the notice suggests regenerating.
LOW_WATERMARK = 3

_CONFUSABLE = str.maketrans({"o": "0", "i": "1", "l": "1"})


def _format(raw: str) -> str:
    return "-".join(raw[i : i + GROUP] for i in range(0, len(raw), GROUP))


def generate_code() -> str:
    return _format("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))


def normalize_code(typed) -> str | None:
    """The canonical form of a typed code, or None if it cannot be a backup code."""
    value = "".join(str(typed or "").split()).replace("-", "").lower().translate(_CONFUSABLE)
    if len(value) != CODE_LENGTH or any(ch not in ALPHABET for ch in value):
        return None
    return value


def looks_like_backup_code(typed) -> bool:
    return normalize_code(typed) is not None


@dataclass
class CheckResult:
    """The outcome of checking one second-factor code."""

    ok: bool
    reason: str  # ok | invalid | throttled | unreadable | no_device
    message: str
    retry_after: int = 0
    device: Any = field(default=None, repr=False)

    INVALID_MESSAGE: ClassVar[str] = (
        "That code didn't work. Check the code in your authenticator app and try again."
    )
    BACKUP_INVALID_MESSAGE: ClassVar[str] = (
        "That backup code didn't work. Check it and try again: each code works only once."
    )

    @staticmethod
    def throttled_message(seconds: int) -> str:
        return f"Too many wrong codes. Wait {humanize_seconds(seconds)} and try again."

    @classmethod
    def throttled(cls, seconds: int) -> CheckResult:
        return cls(False, "throttled", cls.throttled_message(seconds), retry_after=seconds)
