"""Backup codes: issuing a set, the one-hash check, using one at sign-in.

The code format lives in ``security.twofactor.codes``; regenerating (which needs a TOTP
code) in ``security.twofactor.totp``.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from accounts.emails import send_email
from audit.actions import Action
from audit.services import audit
from security.twofactor.codes import (
    COUNT,
    LOW_WATERMARK,
    CheckResult,
    generate_code,
    normalize_code,
)
from security.twofactor.models import BackupCode, BackupCodeSet

__all__ = [
    "COUNT",
    "LOW_WATERMARK",
    "consume_backup_code",
    "issue_new_set",
    "remaining",
    "use_backup_code",
]


def unused_codes(user):
    """The user's unused codes (``user``: a user, its pk, or an ``OuterRef`` to one)."""
    return BackupCode.objects.filter(code_set__user=user, used_at__isnull=True)


def remaining(user) -> int:
    """The unused codes of the user's set (0 without a set): one query, not two."""
    return unused_codes(user).count()


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


def consume_backup_code(*, user, code: str) -> CheckResult:
    with transaction.atomic():
        code_set = BackupCodeSet.objects.select_for_update().filter(user=user).first()
        if code_set is None:
            return CheckResult(False, "invalid", CheckResult.BACKUP_INVALID_MESSAGE)
        seconds = code_set.throttle_seconds_left()
        if seconds:
            return CheckResult.throttled(seconds)
        ok = code_set.verify_token(code)
    if ok:
        return CheckResult(True, "ok", "", device=code_set)
    return CheckResult(False, "invalid", CheckResult.BACKUP_INVALID_MESSAGE)


def use_backup_code(*, user, code: str, request=None):
    """Consume one backup code at sign-in. The set's row is locked, so two requests with
    the same code cannot both win. On success: audited, and the user is emailed (with a
    suggestion to regenerate when few are left)."""
    result = consume_backup_code(user=user, code=code)
    if result.ok:
        with transaction.atomic():
            left = remaining(user)
            audit(Action.BACKUP_CODE_USED, request=request, user=user, metadata={"remaining": left})
            send_email(
                to=user.email,
                template="2fa_backup_code_used",
                context={"user": user, "remaining": left, "low": left <= LOW_WATERMARK},
            )
    return result
