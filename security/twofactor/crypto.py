"""Encryption of secrets at rest (TOTP keys) with ``settings.ENCRYPTION_KEYS``.

MultiFernet: the first key encrypts, every key decrypts, so a new key is put first, the
data is re-encrypted (``manage.py rotate_encryption_key``) and then the old key removed.
The keys are read from settings at call time, so an override (or a rotation in a test)
takes effect at once.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SecretUnreadable(Exception):
    """No configured key decrypts the stored value (a key was removed or replaced)."""


def _multifernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        raise ImproperlyConfigured("ENCRYPTION_KEYS is empty: secrets cannot be encrypted.")
    return MultiFernet([Fernet(key) for key in keys])


def encrypt(data: bytes) -> str:
    """Encrypt with the first key; the token is URL-safe ASCII."""
    return _multifernet().encrypt(data).decode("ascii")


def decrypt(token: str) -> bytes:
    """Decrypt with any configured key, or raise SecretUnreadable."""
    try:
        return _multifernet().decrypt(token.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError, ValueError) as exc:
        raise SecretUnreadable("no configured encryption key decrypts this value") from exc


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the first key (keeping its original timestamp)."""
    try:
        return _multifernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeEncodeError, ValueError) as exc:
        raise SecretUnreadable("no configured encryption key decrypts this value") from exc


def encrypted_with_first_key(token: str) -> bool:
    """True when the first (current) key alone decrypts ``token``."""
    try:
        Fernet(settings.ENCRYPTION_KEYS[0]).decrypt(token.encode("ascii"))
    except (InvalidToken, IndexError, ValueError):
        return False
    return True
