"""The client's IP address, trusting X-Forwarded-For only behind configured proxies."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _normalise(value: str) -> str | None:
    try:
        ip = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    # An IPv4-mapped IPv6 address (::ffff:1.2.3.4) is the IPv4 client: one counter, one
    # GeoIP lookup.
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def client_ip(request: HttpRequest) -> str:
    """Return the client address for lockout, rate limits, audit and GeoIP.

    With TRUSTED_PROXY_COUNT = N > 0, the N-th address from the right of X-Forwarded-For is
    the one our outermost trusted proxy saw; anything left of it was written by the client
    and is ignored, so a forged header cannot change the counter a request lands on.
    """
    # No usable REMOTE_ADDR (a unix socket, a test): one shared "unknown" address.
    remote = _normalise(request.META.get("REMOTE_ADDR", "")) or "0.0.0.0"  # noqa: S104
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [p for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    if len(forwarded) < proxies:
        return remote
    return _normalise(forwarded[-proxies]) or remote
