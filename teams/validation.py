"""Names and hostnames: what a team, a role or a domain may be called.

Names are NFC-normalised and stripped; empty, over-long, control/format characters
(including bidi overrides and zero-width ones) and names mixing Latin with Greek or
Cyrillic letters (``Оwner`` with a Cyrillic O) are refused. ``name_key`` is what two
names must differ in (NFKC, case-folded), so ``Ｄｅｖ`` and ``dev`` are duplicates.
"""

from __future__ import annotations

import unicodedata

import idna

from .exceptions import InvalidName

TEAM_NAME_MAX = 80
ROLE_NAME_MAX = 60
HOSTNAME_MAX = 253
LABEL_MAX = 63


def _scripts(value: str) -> set[str]:
    found = set()
    for ch in value:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            for script in ("LATIN", "GREEK", "CYRILLIC"):
                if name.startswith(script):
                    found.add(script)
    return found


def clean_name(value: str, *, max_length: int, what: str = "name") -> str:
    value = unicodedata.normalize("NFC", value or "").strip()
    if not value:
        raise InvalidName(f"Enter a {what}.")
    if len(value) > max_length:
        raise InvalidName(f"The {what} can be at most {max_length} characters.")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"} for ch in value):
        raise InvalidName(f"The {what} contains characters that are not allowed.")
    if len(_scripts(value)) > 1:
        raise InvalidName(
            f"The {what} mixes letters of different alphabets (for example a Cyrillic "
            "letter that looks like a Latin one)."
        )
    return value


def name_key(value: str) -> str:
    return unicodedata.normalize("NFKC", value).casefold()


def clean_hostname(value: str) -> str:
    """A hostname in its ASCII (IDNA 2008) form, lower-cased, without a trailing dot."""
    value = (value or "").strip().rstrip(".")
    if not value:
        raise InvalidName("Enter a hostname, such as example.com.")
    if len(value) > 1000 or any(unicodedata.category(ch)[0] in "CZ" for ch in value):
        raise InvalidName("A hostname cannot contain spaces or control characters.")
    too_long = f"A hostname can be at most {HOSTNAME_MAX} characters (in ASCII form)."
    if len(value) > HOSTNAME_MAX:  # the ASCII form is never shorter
        raise InvalidName(too_long)
    try:
        ascii_name = idna.encode(value, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise InvalidName(
            "That is not a valid hostname: use letters, digits and hyphens, "
            "separated by dots (internationalised names are accepted)."
        ) from None
    labels = ascii_name.split(".")
    if len(ascii_name) > HOSTNAME_MAX:
        raise InvalidName(too_long)
    if len(labels) < 2:
        raise InvalidName("Enter a full hostname with a dot, such as example.com.")
    if any(not label or len(label) > LABEL_MAX for label in labels):
        raise InvalidName(f"Each part of a hostname must be 1 to {LABEL_MAX} characters.")
    if labels[-1].isdigit():
        raise InvalidName("Enter a hostname, not an IP address.")
    return ascii_name
