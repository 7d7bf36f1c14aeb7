"""Production: every secret from the environment, HTTPS assumed, no defaults that leak."""

from .base import *  # noqa: F403
from .env import REQUIRED, SettingsError, env, not_set


def required(var: str, read):
    """A variable production cannot run without: unset or empty stops the start-up with
    one line that names it and says what to set it to."""
    value = read(var)
    if not value:
        raise not_set(var)
    return value


DEBUG = False
SECRET_KEY = required("SECRET_KEY", env.str)
if len(SECRET_KEY) < 50:
    raise SettingsError(
        "SECRET_KEY must be at least 50 characters in production: "
        f"set it to {REQUIRED['SECRET_KEY']}."
    )
ALLOWED_HOSTS = required("ALLOWED_HOSTS", env.list)
ENCRYPTION_KEYS = required("ENCRYPTION_KEYS", env.list)
# Links in emails are built from SITE_URL: production must say where it lives.
SITE_URL = required("SITE_URL", env.str).rstrip("/")
# The panel's own origin is trusted for CSRF even when a proxy terminates TLS.
CSRF_TRUSTED_ORIGINS = [*CSRF_TRUSTED_ORIGINS, SITE_URL]

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY_COUNT else None  # noqa: F405
)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
