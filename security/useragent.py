"""A browser's User-Agent header, made readable (parsed once per session with user-agents)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.http import HttpRequest

# ua-parser runs many regular expressions over the string: parsing only the head keeps a
# hostile, very long header cheap. The header is stored cleaned, up to MAX_STORED.
PARSE_LIMIT = 512
MAX_STORED = 1000
# Characters PostgreSQL refuses in text (NUL) or that would break a log or table line:
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Device:
    browser: str
    os: str
    device_type: str  # "desktop", "mobile", "tablet", "bot" or "other"

    @property
    def label(self) -> str:
        """ "Chrome 130 on Linux" or "Unknown browser"."""
        if self.browser and self.os:
            return f"{self.browser} on {self.os}"
        return self.browser or (f"Unknown browser on {self.os}" if self.os else "Unknown browser")


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


def _major(version: str) -> str:
    return version.split(".")[0] if version else ""


def parse(user_agent: str | None) -> Device:
    from user_agents import parse as ua_parse

    text = clean(user_agent)[:PARSE_LIMIT]
    if not text.strip():
        return Device(browser="", os="", device_type="other")
    ua = ua_parse(text)
    family = ua.browser.family if ua.browser.family != "Other" else ""
    version = _major(ua.browser.version_string)
    browser = f"{family} {version}".strip() if family else ""
    os_family = ua.os.family if ua.os.family != "Other" else ""
    os_name = f"{os_family} {ua.os.version_string}".strip() if os_family else ""
    if ua.is_bot:
        kind = "bot"
    elif ua.is_tablet:
        kind = "tablet"
    elif ua.is_mobile:
        kind = "mobile"
    elif ua.is_pc:
        kind = "desktop"
    else:
        kind = "other"
    return Device(browser=browser[:100], os=os_name[:100], device_type=kind)
