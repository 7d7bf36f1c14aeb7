"""Django's CSRF strings drawn with one call to the system's random source instead of 32.

Every page with a form masks the CSRF secret afresh (BREACH): Django draws the 32
characters of the mask with ``secrets.choice``, one ``os.urandom`` system call each,
about a tenth of the dashboard's CPU. ``csrf_string`` draws the same thing (32
characters, each uniform over Django's 62, from the same CSPRNG) from one read:
bytes of 248 or more are dropped so that ``byte % 62`` is uniform, and the read is
repeated in the rare case too few remain.

``mask_cipher_secret`` is Django's ``_mask_cipher_secret`` (the secret plus the mask,
character by character, modulo 62) with each character's place read from a dict instead
of two ``str.index`` scans and two generators per character: every page masks once.

``install()`` (PanelConfig.ready) puts them in place of ``django.middleware.csrf
._get_new_csrf_string`` (which Django 5.2 uses for the mask and for a new secret) and
``_mask_cipher_secret``; it refuses to start if those functions or the alphabet and
length they rely on have changed (``panel/tests/test_csrf.py`` checks the tokens against
Django's own checks and unmasking).
"""

from __future__ import annotations

import os

from django.middleware import csrf

_CHARS = csrf.CSRF_ALLOWED_CHARS
_LENGTH = csrf.CSRF_SECRET_LENGTH
_LIMIT = 256 - 256 % len(_CHARS)  # 248: below it, byte % 62 is uniform


def csrf_string() -> str:
    found: list[str] = []
    while len(found) < _LENGTH:
        found.extend(_CHARS[b % len(_CHARS)] for b in os.urandom(2 * _LENGTH) if b < _LIMIT)
    return "".join(found[:_LENGTH])


_PLACE = {char: n for n, char in enumerate(_CHARS)}


def mask_cipher_secret(secret: str) -> str:
    """A new token for ``secret``: a fresh mask, then each secret character shifted by
    the mask's (Django's ``_unmask_cipher_token`` reverses it)."""
    mask = csrf_string()
    place = _PLACE
    return mask + "".join(
        [_CHARS[(place[s] + place[m]) % 62] for s, m in zip(secret, mask, strict=True)]
    )


def install() -> None:
    original = getattr(csrf, "_get_new_csrf_string", None)
    if original is csrf_string:
        return
    if (
        original is None
        or getattr(csrf, "_mask_cipher_secret", None) is None
        or _CHARS != "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        or _LENGTH != 32
    ):
        raise RuntimeError(
            "django.middleware.csrf changed: review panel/csrf.py before upgrading Django"
        )
    csrf._get_new_csrf_string = csrf_string
    csrf._mask_cipher_secret = mask_cipher_secret
