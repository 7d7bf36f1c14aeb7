"""Where an IP address is, from a MaxMind City database read with geoip2.

The default database is the GeoLite2 City file shipped by ``maxminddb-geolite2``;
``settings.GEOIP_PATH`` points at another one. The reader is opened once per path and
cached. A missing or unreadable database never breaks a sign-in: every lookup answers
"Unknown", ``available()`` is False (so location checks are skipped), and one warning is
logged per path.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

logger = logging.getLogger(__name__)

ATTRIBUTION = "This product includes GeoLite2 data created by MaxMind, available from"
ATTRIBUTION_URL = "https://www.maxmind.com"


@dataclass(frozen=True)
class Location:
    city: str = ""
    country: str = ""
    country_code: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def known(self) -> bool:
        return bool(self.country_code)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def label(self) -> str:
        """ "City, Country", "Country" or "Unknown"."""
        parts = [p for p in (self.city, self.country) if p]
        return ", ".join(parts) or "Unknown"


UNKNOWN = Location()

_lock = threading.Lock()
_state: dict = {"path": None, "reader": None, "failed": set()}


def _reader():
    """The cached reader for the configured path, or None when it cannot be opened."""
    import geoip2.database

    path = getattr(settings, "GEOIP_PATH", "") or ""
    state = _state
    if state["path"] == path:
        return state["reader"]
    with _lock:
        if state["path"] == path:
            return state["reader"]
        reader = None
        if not path:
            _warn_once(path, "GEOIP_PATH is empty")
        else:
            try:
                reader = geoip2.database.Reader(str(path))
            except (OSError, ValueError, RuntimeError) as exc:
                # FileNotFoundError, PermissionError, or maxminddb's InvalidDatabaseError
                # (a RuntimeError) for a file that is not a MaxMind database.
                _warn_once(path, type(exc).__name__)
        old = state["reader"]
        state["reader"], state["path"] = reader, path
        if old is not None:
            old.close()
        _located.cache_clear()
        return reader


def _warn_once(path: str, why: str) -> None:
    if path in _state["failed"]:
        return
    _state["failed"].add(path)
    logger.warning(
        "GeoIP database unavailable (%s): locations are Unknown and location checks are skipped; path=%r",
        why,
        str(path),
    )


def reset() -> None:
    """Forget the cached reader (and the warned paths): the next lookup reopens."""
    with _lock:
        if _state["reader"] is not None:
            _state["reader"].close()
        _state.update(path=None, reader=None, failed=set())
        _located.cache_clear()


@receiver(setting_changed, dispatch_uid="security.client.geoip.reset")
def _on_setting_changed(*, setting, **kwargs) -> None:
    if setting == "GEOIP_PATH":
        reset()


def available() -> bool:
    """Whether a database is readable (location checks run only then)."""
    return _reader() is not None


def normalise_ip(value: str | None) -> str | None:
    """A canonical address, IPv4-mapped IPv6 folded to IPv4; None if not an address."""
    if not value:
        return None
    try:
        ip = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return str(ip)


def lookup(ip: str | None) -> Location:
    """The location of ``ip``; ``UNKNOWN`` for unlisted (e.g. private) or invalid addresses."""
    if not ip:
        return UNKNOWN
    reader = _reader()
    if reader is None:
        return UNKNOWN
    return _located(reader, ip)


@lru_cache(maxsize=4096)
def _located(reader, ip: str) -> Location:
    """``lookup`` with the database open: the sign-in activity and the audit log show the
    same few addresses on every view, and a lookup (the address parsed, the tree walked,
    geoip2's records built; an exception for a private address) costs more than the rest
    of a row. Keyed on the reader: a new database (``_reader``, ``reset``) empties it;
    ``Location`` is immutable, so callers share one safely."""
    address = normalise_ip(ip)
    if address is None:
        return UNKNOWN
    import geoip2.errors

    try:
        found = reader.city(address)
    except (geoip2.errors.AddressNotFoundError, ValueError):
        return UNKNOWN
    except Exception:  # a damaged database must not break a sign-in
        logger.warning("GeoIP lookup failed", exc_info=True)
        return UNKNOWN
    return Location(
        city=(found.city.name or "")[:100],
        country=(found.country.name or "")[:100],
        country_code=(found.country.iso_code or "")[:2],
        latitude=found.location.latitude,
        longitude=found.location.longitude,
    )
