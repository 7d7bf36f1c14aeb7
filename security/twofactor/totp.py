"""TOTP two-factor authentication: enrollment, verification, disabling, key rotation.

Every verification runs in its own ``transaction.atomic`` on the device row locked with
``select_for_update()``: of two requests racing with one code exactly one wins, and a
failed attempt's throttle increment is committed even though the caller then refuses.
"""

from __future__ import annotations

import base64
import io
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import quote

import qrcode
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp import login as otp_login
from PIL import Image

from accounts.emails import send_email
from audit.actions import Action
from audit.models import AuditEvent
from audit.services import audit
from panel.prepared import PreparedLookup
from security.exceptions import AlreadyEnabled, CodeRefused
from security.passkeys.services import has_passkey, remove_all as remove_all_passkeys
from security.sessions import services as sessions
from security.twofactor import crypto
from security.twofactor.backup_codes import (
    COUNT,
    consume_backup_code,
    issue_new_set,
    use_backup_code,
)
from security.twofactor.codes import CheckResult, looks_like_backup_code
from security.twofactor.models import BackupCodeSet, EncryptedTOTPDevice

logger = logging.getLogger("panel.security")

UNREADABLE_MESSAGE = "Your two-factor secret could not be read; contact support."
SECRET_BYTES = 20  # 160 bits, RFC 4226 R6
QR_SIZE = 256


# --- Reading state ----------------------------------------------------------------------


def confirmed_device(user) -> EncryptedTOTPDevice | None:
    if user is None or not getattr(user, "pk", None):
        return None
    return CONFIRMED_DEVICE.first(user.pk)


def confirmed_devices(user_id: int):
    """The user's confirmed authenticator (one at most: a queryset to build on)."""
    return EncryptedTOTPDevice.objects.filter(user_id=user_id, confirmed=True)


# Compiled once (panel.prepared): the 2FA step of the sign-in reads it.
CONFIRMED_DEVICE = PreparedLookup(
    EncryptedTOTPDevice, lambda user_id: confirmed_devices(user_id).order_by("pk")[:1]
)


def has_totp(user) -> bool:
    """Whether the authenticator app (TOTP, with its backup codes) is set up."""
    if user is None or not getattr(user, "pk", None):
        return False
    return confirmed_devices(user.pk).exists()


def has_2fa(user) -> bool:
    """Whether the account has a second factor: the authenticator app or a passkey."""
    return has_totp(user) or has_passkey(user)


def log_unreadable(device: EncryptedTOTPDevice) -> None:
    # The operator needs the user and the cause; never the ciphertext or a key.
    logger.error(
        "two-factor secret of user id=%s (device id=%s) cannot be decrypted with any key in "
        "ENCRYPTION_KEYS: a key was removed or replaced; restore the key, or disable 2FA "
        "for the user (manage.py disable_2fa) after verifying their identity",
        device.user_id,
        device.pk,
    )


def secret_readable(device: EncryptedTOTPDevice) -> bool:
    try:
        device.bin_key  # noqa: B018 - decrypting is the check
    except crypto.SecretUnreadable:
        log_unreadable(device)
        return False
    return True


# --- Enrollment -------------------------------------------------------------------------


def totp_start(*, user, request=None) -> EncryptedTOTPDevice:
    """Create (or overwrite) the pending, unconfirmed authenticator with a fresh secret.

    The view has already re-checked the password: a stolen session alone cannot rotate
    the pending secret. The secret is stored encrypted; it is never put in the session.
    """
    with transaction.atomic():
        if EncryptedTOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise AlreadyEnabled
        EncryptedTOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = EncryptedTOTPDevice(user=user, name="Authenticator app", confirmed=False)
        device.set_key(secrets.token_bytes(SECRET_BYTES))
        device.save()
        audit(Action.TWO_FACTOR_SETUP_STARTED, request=request, user=user)
    return device


def pending_device(user) -> EncryptedTOTPDevice | None:
    return EncryptedTOTPDevice.objects.filter(user=user, confirmed=False).first()


def base32_secret(key: bytes) -> str:
    return base64.b32encode(key).decode("ascii").rstrip("=")


def group_secret(secret: str, size: int = 4) -> str:
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


def otpauth_uri(*, key: bytes, account: str) -> str:
    """The Key URI (SHA1, 6 digits, 30 s), issuer both as label prefix and parameter."""
    issuer = str(settings.OTP_ISSUER).replace(":", "").strip() or "Panel"
    label = f"{quote(issuer, safe='')}:{quote(account, safe='')}"
    return (
        f"otpauth://totp/{label}?secret={base32_secret(key)}&issuer={quote(issuer, safe='')}"
        f"&algorithm=SHA1&digits={EncryptedTOTPDevice.DIGITS}&period={EncryptedTOTPDevice.STEP}"
    )


def qr_png(data: str, size: int = QR_SIZE) -> bytes:
    """A PNG of exactly ``size`` x ``size`` pixels: black modules on white, with at least
    the 4-module quiet zone, scaled by a whole number of pixels per module so every
    module stays square and sharp."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=1, border=4)
    qr.add_data(data)
    qr.make(fit=True)
    modules = qr.get_matrix()  # includes the border
    scale = max(1, size // len(modules))
    canvas = Image.new("L", (size, size), 255)
    offset = (size - len(modules) * scale) // 2
    pixels = canvas.load()
    for y, row in enumerate(modules):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    for dx in range(scale):
                        pixels[offset + x * scale + dx, offset + y * scale + dy] = 0
    out = io.BytesIO()
    canvas.save(out, format="PNG", optimize=True)
    return out.getvalue()


@dataclass
class SetupInfo:
    manual_key: str
    uri: str
    qr_data_uri: str


def setup_info(*, device: EncryptedTOTPDevice, user) -> SetupInfo:
    """What the setup page shows. Raises ``crypto.SecretUnreadable``."""
    key = device.bin_key
    uri = otpauth_uri(key=key, account=user.email or user.get_username())
    png = base64.b64encode(qr_png(uri)).decode("ascii")
    return SetupInfo(
        manual_key=group_secret(base32_secret(key)),
        uri=uri,
        qr_data_uri=f"data:image/png;base64,{png}",
    )


def verify_totp(*, user, code: str, confirmed: bool = True) -> CheckResult:
    """Check a TOTP code against the user's (confirmed or pending) authenticator."""
    with transaction.atomic():
        device = (
            EncryptedTOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=confirmed)
            .first()
        )
        if device is None:
            return CheckResult(False, "no_device", CheckResult.INVALID_MESSAGE)
        seconds = device.throttle_seconds_left()
        if seconds:
            return CheckResult.throttled(seconds)
        try:
            ok = device.verify_token(code)
        except crypto.SecretUnreadable:
            log_unreadable(device)
            return CheckResult(False, "unreadable", UNREADABLE_MESSAGE)
    if ok:
        return CheckResult(True, "ok", "", device=device)
    return CheckResult(False, "invalid", CheckResult.INVALID_MESSAGE)


def totp_confirm(*, user, code: str, request=None) -> list[str]:
    """Confirm the pending authenticator with a valid code: 2FA is on. Returns the new
    backup codes (the only time they exist in plain text). Raises ``CodeRefused``."""
    result = verify_totp(user=user, code=code, confirmed=False)
    if not result.ok:
        raise CodeRefused.from_result(result)
    with transaction.atomic():
        device = EncryptedTOTPDevice.objects.select_for_update().get(pk=result.device.pk)
        device.confirmed = True
        device.confirmed_at = timezone.now()
        device.save(update_fields=["confirmed", "confirmed_at"])
        codes = issue_new_set(user=user)
        audit(Action.TWO_FACTOR_ENABLED, request=request, user=user)
        send_email(to=user.email, template="2fa_enabled", context={"user": user})
        if request is not None:
            _secure_sessions_after_enabling(request=request, user=user, device=device)
    return codes


def _secure_sessions_after_enabling(*, request, user, device: EncryptedTOTPDevice) -> None:
    """Sessions signed in with the password alone must not outlive the switch to 2FA.

    This session has just proved the second factor (the confirming code), so it is marked
    verified, as if it had signed in through /auth/2fa/; every other session of the user
    ends and must sign in again, now with a code.
    """
    otp_login(request, device)
    sessions.end_user_sessions(
        user,
        except_session_key=request.session.session_key,
        reason=sessions.Reason.TWO_FACTOR_ENABLED,
        request=request,
    )


# --- Sign-in and disabling ----------------------------------------------------------------


def verify_second_factor(*, user, code: str, method: str, request=None) -> CheckResult:
    """The 2FA sign-in step: ``method`` is "totp" or "backup_code"."""
    if method == "backup_code":
        return use_backup_code(user=user, code=code, request=request)
    return verify_totp(user=user, code=code)


def backup_codes_regenerate(*, user, totp_code: str, request=None) -> list[str]:
    """Issue a new set after a fresh TOTP code (a backup code is refused by design:
    the codes must not be able to renew themselves). The old set dies at once.
    Raises ``CodeRefused``."""
    # Verified in its own transaction so that a failure's throttle count is kept.
    result = verify_totp(user=user, code=totp_code)
    if not result.ok:
        raise CodeRefused.from_result(result)
    with transaction.atomic():
        codes = issue_new_set(user=user)
        audit(
            Action.BACKUP_CODES_REGENERATED, request=request, user=user, metadata={"count": COUNT}
        )
        send_email(
            to=user.email,
            template="2fa_backup_codes_regenerated",
            context={"user": user, "count": COUNT},
        )
    return codes


def _wipe(user, *, passkeys: bool = False) -> bool:
    """Delete the secret and every backup code (and, for an operator, every passkey).
    True if there was anything to delete."""
    deleted, _ = EncryptedTOTPDevice.objects.filter(user=user).delete()
    codes, _ = BackupCodeSet.objects.filter(user=user).delete()
    keys = remove_all_passkeys(user=user) if passkeys else 0
    return bool(deleted or codes or keys)


def totp_disable(*, user, code: str, request=None) -> None:
    """Turn 2FA off with a current TOTP code or an unused backup code. Raises
    ``CodeRefused``. The secret and all backup codes are deleted."""
    method = "backup_code" if looks_like_backup_code(code) else "totp"
    if method == "backup_code":
        result = consume_backup_code(user=user, code=code)
    else:
        result = verify_totp(user=user, code=code)
    if not result.ok:
        raise CodeRefused.from_result(result, method=method)
    with transaction.atomic():
        _wipe(user)
        # With a passkey left, 2FA stays on: only the app (and its backup codes) went.
        passkeys_remain = has_passkey(user)
        audit(
            Action.TOTP_REMOVED if passkeys_remain else Action.TWO_FACTOR_DISABLED,
            request=request,
            user=user,
            metadata={"method": method},
        )
        send_email(
            to=user.email,
            template="2fa_disabled",
            context={"user": user, "by_operator": False, "passkeys_remain": passkeys_remain},
        )


def totp_disable_by_operator(*, user, actor=None, request=None, via: str = "command") -> bool:
    """An operator turns 2FA off for a user who lost both factors (after verifying who
    they are, out of band). Audited with the acting operator; the user is emailed."""
    with transaction.atomic():
        if not _wipe(user, passkeys=True):
            return False
        audit(
            Action.TWO_FACTOR_DISABLED_BY_OPERATOR,
            request=request,
            actor=actor,
            user=user,
            metadata={"via": via},
        )
        send_email(
            to=user.email, template="2fa_disabled", context={"user": user, "by_operator": True}
        )
    return True


# --- Key rotation -----------------------------------------------------------------------


@dataclass
class RotationSummary:
    total: int = 0
    rotated: int = 0
    unreadable: int = 0


def rotate_encryption_key(*, dry_run: bool = False, actor=None) -> RotationSummary:
    """Re-encrypt every TOTP secret with the first key of ENCRYPTION_KEYS.

    Secrets no key can read are left untouched, counted and logged (with the user id).
    """
    summary = RotationSummary()
    with transaction.atomic():
        for device in EncryptedTOTPDevice.objects.select_for_update().order_by("pk"):
            summary.total += 1
            try:
                token = crypto.rotate(device.encrypted_key)
            except crypto.SecretUnreadable:
                log_unreadable(device)
                summary.unreadable += 1
                continue
            summary.rotated += 1
            if not dry_run:
                device.encrypted_key = token
                device.save(update_fields=["encrypted_key"])
        if not dry_run:
            audit(
                Action.ENCRYPTION_KEY_ROTATED,
                actor=actor,
                outcome=(
                    AuditEvent.Outcome.SUCCESS
                    if not summary.unreadable
                    else AuditEvent.Outcome.FAILURE
                ),
                metadata={
                    "total": summary.total,
                    "rotated": summary.rotated,
                    "unreadable": summary.unreadable,
                },
            )
    return summary
