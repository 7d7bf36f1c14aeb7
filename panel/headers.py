"""Request header text as the panel stores it: decoded as UTF-8, control characters
replaced, bounded. Whatever a header holds, what reaches a database column or a log
line is safe there (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

import re

from django.http import HttpRequest

MAX_STORED = 1000
# Characters PostgreSQL refuses in text (NUL) or that would break a log or table line:
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def clean(user_agent: str | None) -> str:
    """The header as stored: control characters replaced by a space, at most MAX_STORED
    characters, nothing else changed."""
    return _CONTROL.sub(" ", (user_agent or "")[:MAX_STORED])


def header_text(value: str | None) -> str:
    """A request header as text: WSGI gives one character per byte (latin-1), so UTF-8
    bytes are decoded as UTF-8 (invalid sequences become U+FFFD)."""
    value = value or ""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:  # already text (not from a WSGI server)
        return value


def from_request(request: HttpRequest) -> str:
    """The request's User-Agent as stored: decoded, cleaned and bounded."""
    return clean(header_text(request.META.get("HTTP_USER_AGENT", "")[: MAX_STORED * 4]))
