"""Django's CSRF strings drawn with one call to the system's random source instead of 32.

Every page with a form masks the CSRF secret afresh (BREACH): Django draws the 32
characters of the mask with ``secrets.choice``, one ``os.urandom`` system call each,
about a tenth of the dashboard's CPU. ``csrf_string`` draws the same thing (32
characters, each uniform over Django's 62, from the same CSPRNG) from one read:
bytes of 248 or more are dropped so that ``byte % 62`` is uniform, and the read is
repeated in the rare case too few remain.

``mask_cipher_secret`` is Django's ``_mask_cipher_secret`` (the secret plus the mask,
character by character, modulo 62) with the places and the sums made by ``bytes.translate``
instead of two ``str.index`` scans and two generators per character: every page masks
once. ``token_input`` is what ``{% csrf_token %}`` renders, without ``format_html``.

``install()`` (PanelConfig.ready) puts them in place of ``django.middleware.csrf
._get_new_csrf_string`` (which Django 5.2 uses for the mask and for a new secret) and
``_mask_cipher_secret``; it refuses to start if those functions or the alphabet and
length they rely on have changed (``panel/tests/test_csrf.py`` checks the tokens against
Django's own checks and unmasking).
"""

from __future__ import annotations

import os
from operator import add

from django.middleware import csrf
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import mark_safe

_CHARS = csrf.CSRF_ALLOWED_CHARS
_LENGTH = csrf.CSRF_SECRET_LENGTH
_LIMIT = 256 - 256 % len(_CHARS)  # 248: below it, byte % 62 is uniform


# Bytes translated in C rather than characters looped over in Python (about 110,000
# instructions a mask through the loops, 23,000 here, the random read included).
_DROP = bytes(range(_LIMIT, 256))  # the bytes a draw drops
_PLACE_OF_BYTE = bytes(b % len(_CHARS) for b in range(256))  # a kept byte -> a place
# A place (or two places added: below 124) -> its character, modulo the alphabet.
_CHAR_AT = bytes(ord(_CHARS[n % len(_CHARS)]) for n in range(256))
# A character of the alphabet -> its place; anything else -> 255 (refused).
_PLACE_OF_CHAR = bytes(_CHARS.find(chr(b)) % 256 for b in range(256))


def _places(count: int) -> bytes:
    """``count`` places in the alphabet, each uniform over its 62: random bytes below
    248, modulo 62."""
    found = b""
    while len(found) < count:
        found += os.urandom(2 * count).translate(None, _DROP)
    return found[:count].translate(_PLACE_OF_BYTE)


def csrf_string() -> str:
    return _places(_LENGTH).translate(_CHAR_AT).decode("ascii")


def mask_cipher_secret(secret: str) -> str:
    """A new token for ``secret``: a fresh mask, then each secret character shifted by
    the mask's (Django's ``_unmask_cipher_token`` reverses it). A secret that is not 32
    characters of the alphabet raises ValueError, as Django's ``str.index`` does."""
    mask = _places(_LENGTH)
    places = secret.encode("ascii").translate(_PLACE_OF_CHAR)  # UnicodeEncodeError: a ValueError
    if len(places) != _LENGTH or 255 in places:
        raise ValueError("not a CSRF secret")
    return (mask.translate(_CHAR_AT) + bytes(map(add, places, mask)).translate(_CHAR_AT)).decode(
        "ascii"
    )


_NOT_PROVIDED = "NOTPROVIDED"  # Django's csrf context processor's stand-in: no input


def token_input(context) -> str:
    """What ``{% csrf_token %}`` renders, without ``format_html``'s escape and format:
    a masked token is letters and digits only. Anything else (no token, one with other
    characters) is Django's own node's answer."""
    token = context.get("csrf_token")
    if token:
        token = str(token)
        if token == _NOT_PROVIDED:
            return mark_safe("")  # Django's format_html("") (deprecated without arguments)
        if token.isascii() and token.isalnum():
            return mark_safe(f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">')  # noqa: S308 (letters and digits)
    return CsrfTokenNode().render(context)


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
