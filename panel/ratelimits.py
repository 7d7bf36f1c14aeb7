"""Every rate limit of the panel (django-ratelimit): the keys and the named rates.

Per-IP limits block with a 429 (settings.RATELIMIT_VIEW through RatelimitMiddleware).
Per-account limits on the public account pages do not block: the page answers as usual
and no email is sent, so the limit itself does not reveal whether an account exists.
The sign-in and second-factor rates are settings (SIGNIN_RATE_LIMIT,
TWO_FACTOR_RATE_LIMIT), read when a request comes in.
"""

from __future__ import annotations

from django.conf import settings
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
# Signed-in pages that check a code or password (beside the sign-in lockout).
TWO_FACTOR_ENABLE_PER_USER = "10/m"
TWO_FACTOR_SETUP_PER_USER = "20/m"
TWO_FACTOR_MANAGE_PER_USER = "20/m"
STEPUP_PER_USER = "10/m"
PASSKEY_MANAGE_PER_USER = "20/m"
PASSKEY_SIGNIN_PER_IP = "30/m"
# Passwordless challenges: every sign-in page asks for one (the autofill of passkeys),
# and again every 4.5 minutes while it stays open; counted apart from the answers.
PASSKEY_SIGNIN_OPTIONS_PER_IP = "60/m"
# The emailed new-device code: resends per sign-in and per address.
DEVICE_CODE_RESEND_PER_USER = "3/10m"
DEVICE_CODE_RESEND_PER_IP = "10/10m"
# Invitations sent again, per team (counted by teams.services from the audit trail).
INVITATION_RESEND_PER_TEAM = "10/h"


def signin_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "SIGNIN_RATE_LIMIT", "30/m")


def two_factor_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "TWO_FACTOR_RATE_LIMIT", "30/m")


def ip_key(group: str, request: HttpRequest) -> str:
    """The client address as panel.net sees it (X-Forwarded-For only behind trusted proxies)."""
    return client_ip(request)


def email_key(group: str, request: HttpRequest) -> str:
    """The posted address, normalised, so ``Bob@X`` and ``bob@x`` share one counter."""
    return (request.POST.get("email") or "").strip().lower()[:254]


def user_key(group: str, request: HttpRequest) -> str:
    user = request.user
    return f"user:{user.pk}" if user.is_authenticated else f"ip:{client_ip(request)}"


# The JSON API (api/): requests per API key, and refused keys or tokens per address.
def api_key_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "API_KEY_RATE_LIMIT", "600/m")


def api_auth_failure_rate(group: str, request: HttpRequest) -> str:
    return getattr(settings, "API_AUTH_FAILURE_RATE_LIMIT", "30/m")


API_SIGNIN_PER_IP = "30/m"  # /api/v1/auth/login and its 2fa/device steps, beside the lockout
API_REFRESH_PER_IP = "60/m"
