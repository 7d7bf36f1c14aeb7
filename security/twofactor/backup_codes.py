"""Backup codes: generation, the one-hash check, regeneration.

A code is 16 symbols of Crockford's Base32 alphabet (5 bits each: 80 bits from
``secrets``), shown as ``xxxx-xxxx-xxxx-xxxx``. Typing is forgiving: case, spaces and
hyphens are ignored, and o/i/l read as 0/1.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from accounts.emails import send_email
from audit.services import audit
from security.models import BackupCode, BackupCodeSet

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


def remaining(user) -> int:
    code_set = BackupCodeSet.objects.filter(user=user).first()
    return code_set.remaining() if code_set is not None else 0


def issue_new_set(*, user) -> list[str]:
    """Replace the user's backup codes with 10 fresh ones; returns them (shown once).

    Call inside the caller's transaction: the old set is deleted in the same commit, so
    no moment exists where both sets work.
    """
    BackupCodeSet.objects.filter(user=user).delete()
    code_set = BackupCodeSet.objects.create(
        user=user,
        name="Backup codes",
        confirmed=True,
        salt=secrets.token_hex(16),
        hasher=BackupCodeSet.default_hasher(),
    )
    codes: list[str] = []
    while len(codes) < COUNT:
        code = generate_code()
        if code not in codes:
            codes.append(code)
    BackupCode.objects.bulk_create(
        [BackupCode(code_set=code_set, digest=code_set.digest(normalize_code(c))) for c in codes]
    )
    return codes


class CodeRefused(Exception):
    """The confirming code was wrong, replayed or throttled.

    ``reason`` is the check's outcome (``invalid``, ``throttled``, ``unreadable``,
    ``no_device``) and ``method`` the factor typed (``totp`` or ``backup_code``): the
    settings pages count every refusal but ``unreadable`` on the sign-in lockout.
    """

    def __init__(
        self, message: str, *, retry_after: int = 0, reason: str = "invalid", method: str = "totp"
    ) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.reason = reason
        self.method = method

    @classmethod
    def from_result(cls, result, *, method: str = "totp") -> CodeRefused:
        return cls(
            result.message, retry_after=result.retry_after, reason=result.reason, method=method
        )


def backup_codes_regenerate(*, user, totp_code: str, request=None) -> list[str]:
    """Issue a new set after a fresh TOTP code (a backup code is refused by design:
    the codes must not be able to renew themselves). The old set dies at once.
    Raises ``CodeRefused``."""
    from security.twofactor.totp import verify_totp

    # Verified in its own transaction so that a failure's throttle count is kept.
    result = verify_totp(user=user, code=totp_code)
    if not result.ok:
        raise CodeRefused.from_result(result)
    with transaction.atomic():
        codes = issue_new_set(user=user)
        audit("backup_codes_regenerated", request=request, user=user, metadata={"count": COUNT})
        send_email(
            to=user.email,
            template="2fa_backup_codes_regenerated",
            context={"user": user, "count": COUNT},
        )
    return codes


def use_backup_code(*, user, code: str, request=None):
    """Consume one backup code at sign-in. The set's row is locked, so two requests with
    the same code cannot both win. On success: audited, and the user is emailed (with a
    suggestion to regenerate when few are left)."""
    from security.twofactor.totp import consume_backup_code

    result = consume_backup_code(user=user, code=code)
    if result.ok:
        with transaction.atomic():
            left = remaining(user)
            audit("backup_code_used", request=request, user=user, metadata={"remaining": left})
            send_email(
                to=user.email,
                template="2fa_backup_code_used",
                context={"user": user, "remaining": left, "low": left <= LOW_WATERMARK},
            )
    return result
