"""Where and from what a request came: the client context stored with tracked sessions,
trusted devices and held sign-ins, and shown in security emails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from panel.net import client_ip
from security.client import geoip, useragent


@dataclass(frozen=True)
class ClientContext:
    ip: str
    user_agent: str  # the header (useragent.from_request): decoded, cleaned, bounded
    device: useragent.Device
    place: geoip.Location

    def fields(self) -> dict[str, Any]:
        """The columns of ``security.sessions.models._Place``, ready for ``create()``."""
        return {
            "ip": self.ip,
            "user_agent": self.user_agent,
            "browser": self.device.browser,
            "os": self.device.os,
            "device_type": self.device.device_type,
            "city": self.place.city,
            "country": self.place.country,
            "country_code": self.place.country_code,
            "latitude": self.place.latitude,
            "longitude": self.place.longitude,
        }


def client_context(request: HttpRequest) -> ClientContext:
    """Parse the User-Agent and locate the client address, once (callers store the result
    rather than doing the work again on later requests)."""
    ip = client_ip(request)
    user_agent = useragent.from_request(request)
    return ClientContext(
        ip=ip, user_agent=user_agent, device=useragent.parse(user_agent), place=geoip.lookup(ip)
    )
