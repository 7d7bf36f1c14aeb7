"""Rate-limit keys and rates for the public account pages (django-ratelimit).

Per-IP limits block with a 429 (settings.RATELIMIT_VIEW through RatelimitMiddleware).
Per-account limits do not block: the page answers as usual and no email is sent, so
the limit itself does not reveal whether an account exists.
"""

from __future__ import annotations

from django.http import HttpRequest

from panel.net import client_ip

# rate strings: "<count>/<period>", period s, m, h or d.
SIGNUP_PER_IP = "20/h"
SIGNUP_PER_EMAIL = "3/h"
RESEND_PER_IP = "5/h"
RESEND_PER_EMAIL = "3/h"
RESET_PER_IP = "5/h"
RESET_PER_EMAIL = "3/h"
STRENGTH_PER_IP = "120/m"
CHANGE_PER_USER = "10/h"


def ip_key(group: str, request: HttpRequest) -> str:
    """The client address as panel.net sees it (X-Forwarded-For only behind trusted proxies)."""
    return client_ip(request)


def email_key(group: str, request: HttpRequest) -> str:
    """The posted address, normalised, so ``Bob@X`` and ``bob@x`` share one counter."""
    return (request.POST.get("email") or "").strip().lower()[:254]


def user_key(group: str, request: HttpRequest) -> str:
    user = request.user
    return f"user:{user.pk}" if user.is_authenticated else f"ip:{client_ip(request)}"
