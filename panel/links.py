"""Links: absolute ones for emails (built from SITE_URL, never from the request's Host)
and the one check of a ``next`` address (same host only, so no open redirect)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme


def absolute_url(path: str) -> str:
    """``path`` (starting with /) on the panel's public address, SITE_URL."""
    return f"{settings.SITE_URL}{path}"


def absolute_reverse(name: str, *args, **kwargs) -> str:
    """The absolute link of a named URL (``absolute_reverse("security:sessions")``)."""
    return absolute_url(reverse(name, args=args or None, kwargs=kwargs or None))


def safe_next(request: HttpRequest, next_url: str | None, default: str | None = None) -> str | None:
    """``next_url`` if it stays on this host (and on HTTPS when the request is), else
    ``default``."""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return default
