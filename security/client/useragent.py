"""A browser's User-Agent header, made readable (parsed once per session with user-agents)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from panel.headers import clean, from_request, header_text

__all__ = ["Device", "clean", "from_request", "header_text", "parse"]

# ua-parser runs many regular expressions over the string: parsing only the head keeps a
# hostile, very long header cheap. The header is stored cleaned (panel.headers).
PARSE_LIMIT = 512


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


def _major(version: str) -> str:
    return version.split(".")[0] if version else ""


def parse(user_agent: str | None) -> Device:
    text = clean(user_agent)[:PARSE_LIMIT]
    if not text.strip():
        return Device(browser="", os="", device_type="other")
    return _parse(text)


@lru_cache(maxsize=1024)
def _parse(text: str) -> Device:
    """ua-parser runs many regular expressions over each string, and the audit log and
    the activity list show the same few browsers over and over. Keyed on the cleaned,
    truncated header (at most PARSE_LIMIT characters), so the cache stays small; Device
    is immutable, so sharing one between callers is safe."""
    from user_agents import parse as ua_parse

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
